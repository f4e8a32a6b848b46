import { readFileSync } from 'node:fs';

/** The parts of V8's .cpuprofile this summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled time in all (idle included), in ms. */
  totalMs: number;
  /** Self time by where the code lives (a package, a folder of Parley's, node's internals, GC, idle), in ms, largest first: all of them. */
  byPlace: [string, number][];
  /** Self time by function, in ms, largest first: the `top` ones. */
  byFunction: [string, number][];
}

/** Where a function lives: `ws`, `graphql`, `parley src/realtime/bus`, `node:net`, `(garbage collector)`, … */
function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : `native ${functionName || '(unnamed)'}`;
  const nodeModule = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nodeModule) return nodeModule[1]!;
  const own = /\/dist\/(src|test)\/(.+)\/[^/]+\.js$/.exec(url);
  if (own) return `parley ${own[1]}/${own[2]}`;
  const builtin = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (builtin) return `node:${builtin[1]}`;
  return url;
}

/** Self time of a V8 CPU profile, by place and by function. */
export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const places = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMicros = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i + 1] ?? 0; // a sample's time runs until the next one
    const frame = byId.get(id)!.callFrame;
    totalMicros += micros;
    const place = placeOf(frame.url, frame.functionName);
    places.set(place, (places.get(place) ?? 0) + micros);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '')}:${frame.lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + micros);
  });
  const ranked = (map: Map<string, number>, count: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, micros]): [string, number] => [name, micros / 1000]);
  return { totalMs: totalMicros / 1000, byPlace: ranked(places, places.size), byFunction: ranked(functions, top) };
}
