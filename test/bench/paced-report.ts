// BENCHMARKS.md sections of the paced fan-out (test/bench/paced.ts): one per scenario, the targets, and the CPU
// profile. Each is a `## ` section of its own, so `--paced-only --write` replaces them one by one and a full
// `--write` keeps the ones it did not produce (a profile).
import os from 'node:os';
import type { ClientMix, PacedProfile, PacedResult, PacedScenario } from './paced.js';
import type { ServerKind } from './server-process.js';
import { median } from './stats.js';

export interface PacedReportOptions {
  scenarios: PacedScenario[];
  kinds: ServerKind[];
  rounds: number;
  mix: ClientMix;
  command: string;
  pinned: boolean;
  /** The profiled scenario, and the label its section carries ("before", "after", …). */
  profiled?: { scenario: PacedScenario; label: string; profiles: PacedProfile[] } | undefined;
}

export const PACED_METHOD_HEADING = '## Paced fan-out (issue 14): how it is measured';
export const PACED_TARGETS_HEADING = '## Paced fan-out: targets';

export function pacedHeading(scenario: PacedScenario): string {
  return `## Paced fan-out: ${scenario.subscribers.toLocaleString('en')} subscribers, ${scenario.rate} messages/s for ${scenario.seconds} s`;
}

export function pacedProfileHeading(scenario: PacedScenario, label: string): string {
  return `## Paced fan-out: where the time goes at ${scenario.subscribers.toLocaleString('en')} subscribers, ${scenario.rate} messages/s (CPU profile, ${label})`;
}

const LABEL: Record<ServerKind, string> = { 'raw-ws': 'raw ws', 'socket-io': 'Socket.IO 4', parley: 'Parley' };

/** The sections, each starting with its `## ` heading. */
export function renderPacedSections(results: PacedResult[], options: PacedReportOptions): string[] {
  const sections: string[] = [];
  const full = options.mix === 'all' ? 'every subscriber is a full client' : 'one subscriber in ~200 is a full client, the rest are sinks';
  sections.push(
    [
      PACED_METHOD_HEADING,
      '',
      `Command: \`${options.command}\` (DATABASE_URL pointing at the machine's PostgreSQL; Parley compiled, NODE_ENV=production, one process alone, BUS=off; the bench creates and drops its own database).`,
      `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, loopback only. Servers pinned to core 0 and the load generator to core 1: ${options.pinned ? 'yes' : 'no (taskset unavailable)'}; PostgreSQL unpinned.`,
      `One room; messages of ~200 bytes sent at a steady rate, each on its schedule whether or not the earlier ones have reached everyone (POST /broadcast for raw ws and Socket.IO, the \`sendMessage\` mutation over HTTP for Parley, whose subscribers run \`messageAdded { id body seq createdAt author { id username } }\` over graphql-ws). Before its first round each server takes 1,000 unmeasured sends with nobody subscribed, so its path for a message is compiled before anything is measured, as in a server up for a while. Before each window: every subscription live, a second of unmeasured traffic at the same rate, the server quiet (under 5% of a core for 0.5 s). The servers run ${options.kinds.map((k) => LABEL[k]).join(', ')} in rotated order each round (${options.rounds} rounds); every figure is the median over the rounds (with two, their mean), and × raw is the ratio of the medians.`,
      `Clients: ${full}. A full client decodes every message frame as a chat client does (JSON.parse of the frame, the message body taken out) and times it from the send time the body carries; every client, sink or not, reads the message number from the frame's bytes, so lost and duplicated deliveries and the time each message took to reach its last subscriber are counted over all subscribers.`,
      'CPU: the server process\'s user+system time from /proc/PID/stat from the first send until a second after the last subscriber had the last message (so work the server defers counts), divided by the deliveries. Busy: CPU until the last delivery over that wall time, in shares of a core. Send lag: the latest a send left after its scheduled time (the load generator kept the pace when it is small).',
      '',
    ].join('\n'),
  );

  const of = (kind: ServerKind, scenario: PacedScenario) => results.filter((r) => r.server === kind && r.scenario === scenario);
  const m = (kind: ServerKind, scenario: PacedScenario, pick: (r: PacedResult) => number) => median(of(kind, scenario).map(pick));
  const fixed = (value: number, digits = 1) => (Number.isNaN(value) ? 'n/a' : value.toFixed(digits));
  // The smallest scenario, when it is small, measures each message's own cost (CPU per message, its few deliveries
  // included); a larger scenario's CPU per delivery less that cost spread over its subscribers is the delivery's own.
  const costScenario = options.scenarios.find((s) => s.subscribers <= 10);
  const messageCost = (kind: ServerKind) => (costScenario ? m(kind, costScenario, (r) => r.cpuMicrosPerDelivery) * costScenario.subscribers : Number.NaN);
  const perDelivery = (kind: ServerKind, scenario: PacedScenario) => (m(kind, scenario, (r) => r.cpuMicrosPerDelivery) * scenario.subscribers - messageCost(kind)) / (scenario.subscribers - (costScenario?.subscribers ?? 0));
  for (const scenario of options.scenarios) {
    const lines = [pacedHeading(scenario), ''];
    lines.push(
      '| server | p50 ms | p99 ms | to last p50 ms | to last p99 ms | CPU µs/delivery | × raw | CPU by round | server busy | load generator busy | max send lag ms | lost | duplicated | connect errors | send failures |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    const rawCpu = m('raw-ws', scenario, (r) => r.cpuMicrosPerDelivery);
    for (const kind of options.kinds) {
      const rows = of(kind, scenario);
      if (rows.length === 0) continue;
      const cpu = m(kind, scenario, (r) => r.cpuMicrosPerDelivery);
      const sum = (pick: (r: PacedResult) => number) => rows.reduce((s, r) => s + pick(r), 0);
      lines.push(
        `| ${LABEL[kind]} | ${fixed(m(kind, scenario, (r) => r.p50Ms))} | ${fixed(m(kind, scenario, (r) => r.p99Ms))} | ${fixed(m(kind, scenario, (r) => r.lastP50Ms))} | ${fixed(m(kind, scenario, (r) => r.lastP99Ms))} | ${fixed(cpu)} | ${fixed(cpu / rawCpu, 2)} | ${rows.map((r) => fixed(r.cpuMicrosPerDelivery)).join(' / ')} | ${fixed(100 * m(kind, scenario, (r) => r.serverBusy), 0)}% | ${fixed(100 * m(kind, scenario, (r) => r.loadGeneratorBusy), 0)}% | ${fixed(Math.max(...rows.map((r) => r.maxSendLagMs)))} | ${sum((r) => r.lost)} | ${sum((r) => r.duplicated)} | ${sum((r) => r.connectErrors)} | ${sum((r) => r.sendFailures)} |`,
      );
    }
    const executions = of('parley', scenario).find((r) => r.executionsPerEvent !== undefined)?.executionsPerEvent;
    const perMessage =
      scenario === costScenario
        ? ` With ${scenario.subscribers} subscribers the CPU is mostly each message's own work, per message: ${options.kinds.map((kind) => `${LABEL[kind]} ${fixed(messageCost(kind), 0)} µs`).join(', ')}; the larger scenarios' figures less it are what each delivery costs (targets below).`
        : '';
    lines.push(
      '',
      `${scenario.rate * scenario.seconds} messages per round to ${scenario.subscribers.toLocaleString('en')} subscribers; lost, duplicated, errors and failures are totals over the rounds.${executions === undefined ? '' : ` Parley: ${fixed(executions, 2)} GraphQL executions per event.`}${perMessage}`,
      '',
    );
    sections.push(lines.join('\n'));
  }

  if (options.kinds.includes('raw-ws') && options.kinds.includes('parley')) {
    const lines = [PACED_TARGETS_HEADING, '', `Command: \`${options.command}\`; ratios of the medians to raw ws in the same run.`, '', '| target | met | measured |', '|---|---|---|'];
    for (const scenario of options.scenarios.filter((s) => s.subscribers <= 5000 && s !== costScenario)) {
      const raw = (pick: (r: PacedResult) => number) => m('raw-ws', scenario, pick);
      const parley = (pick: (r: PacedResult) => number) => m('parley', scenario, pick);
      const sio = options.kinds.includes('socket-io') ? m('socket-io', scenario, (r) => r.cpuMicrosPerDelivery) : Number.NaN;
      const cpu = parley((r) => r.cpuMicrosPerDelivery) / raw((r) => r.cpuMicrosPerDelivery);
      const name = `${scenario.subscribers.toLocaleString('en')} at ${scenario.rate}/s`;
      const belowSio = Number.isNaN(sio) || parley((r) => r.cpuMicrosPerDelivery) < sio;
      lines.push(
        `| CPU per delivery ≤ 1.25× raw ws and below Socket.IO, ${name} | ${cpu <= 1.25 && belowSio ? 'yes' : '**no**'} | ${cpu.toFixed(2)}× raw (${fixed(parley((r) => r.cpuMicrosPerDelivery))} vs ${fixed(raw((r) => r.cpuMicrosPerDelivery))} µs); Socket.IO ${fixed(sio / raw((r) => r.cpuMicrosPerDelivery), 2)}× |`,
      );
      if (costScenario) {
        const own = perDelivery('parley', scenario) / perDelivery('raw-ws', scenario);
        lines.push(
          `| (not a target) CPU per delivery less each message's own cost, ${name} | ${own <= 1.25 ? 'within 1.25×' : 'above 1.25×'} | ${own.toFixed(2)}× raw (${fixed(perDelivery('parley', scenario))} vs ${fixed(perDelivery('raw-ws', scenario))} µs; per message ${fixed(messageCost('parley'), 0)} vs ${fixed(messageCost('raw-ws'), 0)} µs) |`,
        );
      }
      const last = parley((r) => r.lastP99Ms) / raw((r) => r.lastP99Ms);
      lines.push(
        `| fan-out p99 (send to last subscriber) ≤ 1.5× raw ws, ${name} | ${last <= 1.5 ? 'yes' : '**no**'} | ${last.toFixed(2)}× (${fixed(parley((r) => r.lastP99Ms))} vs ${fixed(raw((r) => r.lastP99Ms))} ms)${options.kinds.includes('socket-io') ? `; Socket.IO ${fixed(m('socket-io', scenario, (r) => r.lastP99Ms) / raw((r) => r.lastP99Ms), 2)}×` : ''} |`,
      );
    }
    const parleyRows = results.filter((r) => r.server === 'parley');
    const lost = parleyRows.reduce((s, r) => s + r.lost, 0);
    const duplicated = parleyRows.reduce((s, r) => s + r.duplicated, 0);
    const deliveries = parleyRows.reduce((s, r) => s + r.sent * r.subscribers, 0);
    lines.push(`| Parley: no delivery lost or duplicated, every paced scenario | ${lost === 0 && duplicated === 0 ? 'yes' : '**no**'} | ${lost} lost, ${duplicated} duplicated of ${deliveries} |`, '');
    sections.push(lines.join('\n'));
  }

  if (options.profiled && options.profiled.profiles.length > 0) sections.push(renderProfile(options.profiled.scenario, options.profiled.label, options.profiled.profiles, options.command));
  return sections;
}

function renderProfile(scenario: PacedScenario, label: string, profiles: PacedProfile[], command: string): string {
  const busy = (p: PacedProfile) => p.summary.byPlace.filter(([name]) => name !== '(idle)');
  const busyMs = (p: PacedProfile) => busy(p).reduce((sum, [, ms]) => sum + ms, 0);
  const perDelivery = (p: PacedProfile, ms: number) => ((ms * 1000) / p.deliveries).toFixed(2);
  const share = (p: PacedProfile, ms: number) => `${((100 * ms) / busyMs(p)).toFixed(1)}%`;
  const cell = (p: PacedProfile, ms: number) => `${perDelivery(p, ms)} (${share(p, ms)})`;
  const lines = [pacedProfileHeading(scenario, label), ''];
  lines.push(
    `Command: \`${command}\`. After the measured rounds, one more round per server, not measured, with the server profiled over the same window (the inspector's sampling profiler, every 200 µs). A sample counts wall time on the main thread, so a call the kernel preempted (PostgreSQL and the machine's other work are unpinned) looks longer; idle is left out. Cells: sampled µs per delivery (share of the server's busy samples). Places are where the code lives: a package, a folder of Parley's, node's internals; \`native writev\`-like rows are V8 builtins and bindings without a script (the socket writes).`,
    '',
  );
  const places = new Set<string>();
  for (const p of profiles) for (const [place] of busy(p).slice(0, 10)) places.add(place);
  lines.push(`| place | ${profiles.map((p) => LABEL[p.server]).join(' | ')} |`, `|---|${profiles.map(() => '---|').join('')}`);
  for (const place of places) lines.push(`| ${place} | ${profiles.map((p) => cell(p, busy(p).find(([name]) => name === place)?.[1] ?? 0)).join(' | ')} |`);
  lines.push(`| the rest | ${profiles.map((p) => cell(p, busy(p).filter(([name]) => !places.has(name)).reduce((sum, [, ms]) => sum + ms, 0))).join(' | ')} |`);
  lines.push(`| **all busy samples, µs/delivery** | ${profiles.map((p) => perDelivery(p, busyMs(p))).join(' | ')} |`, '');
  const parley = profiles.find((p) => p.server === 'parley');
  if (parley) {
    lines.push('Parley\'s functions by self time (top 20; file:line in the compiled code):', '', '| function | µs/delivery | share |', '|---|---|---|');
    for (const [name, ms] of parley.summary.byFunction.filter(([name]) => name !== '(idle)').slice(0, 20)) {
      lines.push(`| \`${name}\` | ${perDelivery(parley, ms)} | ${share(parley, ms)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
