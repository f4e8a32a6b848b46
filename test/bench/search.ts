// Message search at scale (`npm run bench -- --search-only`): 1,000,000 messages in 1,000 rooms written with
// set-based SQL (English words drawn with a long-tailed frequency, a tenth Chinese, some mixed), then
// searchMessages first pages over HTTP for a member of 50 rooms, and sends per second in three modes interleaved on
// the same database: off (no search indexes), async (as shipped: sends write no vector, the search indexer fills
// it in; with its backlog and catch-up time) and sync (a trigger computes the vector in the send's INSERT, the way
// the generated column did before search was made asynchronous).
import http from 'node:http';
import pg from 'pg';
import { token } from './parley-fixtures.js';
import { ownCpuMicros, postgresCpuMicros, postgresCpuSince, startBenchServer, type BenchServer } from './server-process.js';
import { percentile } from './stats.js';
import { WsSender } from './ws-sender.js';

const WORDS =
  'the to i you it a and is we that for on in this can be have do with are just so not will what at my me if but its all get about now was know need one like there up how out think when they time go good today see back should make yeah sure thanks ok did your would going work then here right new some any from let also been more got check still really team build deploy deployed deployment meet meeting meetings release review fix bug issue test tests code branch merge server client api database query index search message room user login error logs update version docs design plan call lunch coffee weekend morning tonight tomorrow yesterday week month project demo customer support ticket feature screen mobile web android ios chart report data sales budget invoice office remote travel flight hotel train station airport city london paris berlin tokyo seoul beijing shanghai music movie game football party birthday dinner pizza sushi noodle ramen weather rain snow sunny cold warm happy sorry please great awesome nice cool funny crazy weird busy tired ready done started finished waiting blocked pending approved rejected cancelled postponed urgent important quick slow fast broken fixed working failing passing green red yellow blue kubernetes docker postgres redis graphql typescript rust python golang java kotlin swift react vue angular webpack vite linux windows macos laptop phone tablet keyboard monitor printer network wifi vpn firewall password account profile settings notification email calendar schedule agenda minutes notes summary draft final';
const CHINESE = '我们 明天 北京 开会 今天 上海 项目 会议 中文 支持 问题 时间 已经 可以 没有 什么 大家 一起 工作 需要 东京 首尔 测试 发布 代码 服务 数据 用户 消息 搜索 晚上 早上 周末 吃饭 咖啡 下午 电话 邮件 文档 设计 客户 市场 产品 团队 同事 老板 周一 周五 好的 谢谢 没问题 辛苦 加油 哈哈 快点 马上 完成 开始';

const VECTOR_OF_BODY = "to_tsvector('simple', parley_search_text(body))";
const CREATE_SEARCH_INDEX = `CREATE INDEX messages_search_idx ON messages USING gin (parley_room_lexemes(room_id, search_vector))`;
const CREATE_PENDING_INDEX = `CREATE INDEX messages_search_pending_idx ON messages (room_id) WHERE search_vector IS NULL AND deleted_at IS NULL`;

/** The query mix: each kind as often as the others. */
export const SEARCH_QUERIES: { kind: string; query: string }[] = [
  { kind: 'common word (~3% of messages)', query: 'meeting' },
  { kind: 'rare word (10 messages in all)', query: 'kite1234' },
  { kind: 'two words, the last a prefix', query: 'deploy tom' },
  { kind: 'prefix (~9%)', query: 'depl' },
  { kind: 'Chinese, 1 character', query: '会' },
  { kind: 'Chinese, 2 characters', query: '北京' },
  { kind: 'very common word (~35%)', query: 'the' },
];

/** Generates the corpus and the viewer (a member of 50 rooms); returns the viewer's id and some senders. */
async function generate(client: pg.Client, messages: number): Promise<{ viewer: string; senders: { id: string; room: string }[] }> {
  await client.query(`SET session_replication_role = replica`); // bulk load: no per-row membership trigger
  await client.query(`SET maintenance_work_mem = '512MB'`);
  await client.query(`DROP INDEX messages_search_idx`); // built once after the load: faster than row by row
  await client.query(`INSERT INTO users (id, username, password_hash) SELECT gen_random_uuid(), 'search_' || n, 'x' FROM generate_series(0, 2000) n`);
  await client.query(`CREATE TEMP TABLE u AS SELECT id, substr(username, 8)::int AS n FROM users WHERE username LIKE 'search\\_%'`);
  await client.query(`CREATE TEMP TABLE r AS SELECT gen_random_uuid() AS id, n FROM generate_series(0, 999) n`);
  await client.query(`INSERT INTO rooms (id, name, kind, created_by_id) SELECT r.id, 'search room ' || r.n, 'PUBLIC', u.id FROM r JOIN u ON u.n = r.n`);
  // Ten authors per room; user 2000 (the viewer) is a member of every 20th room.
  await client.query(
    `INSERT INTO room_memberships (room_id, user_id, role)
     SELECT r.id, u.id, 'MEMBER'::membership_role FROM r, generate_series(0, 9) k, u WHERE u.n = (r.n * 2 + k * 200) % 2000
     UNION SELECT r.id, u.id, 'MEMBER'::membership_role FROM r, u WHERE u.n = 2000 AND r.n % 20 = 0`,
  );
  // 100,000 English fragments of 3-7 words (rank drawn as floor(V * random()^2): a few very common words, a long
  // tail) and 10,000 Chinese ones; a message is two fragments (1 in 20 with a rare word), Chinese (1 in 10) or mixed.
  await client.query(
    `CREATE TEMP TABLE frag AS SELECT f, (SELECT string_agg(w[1 + floor(array_length(w, 1) * random() ^ 2)::int + 0 * k], ' ')
       FROM generate_series(1, 3 + f % 5) k) AS t FROM generate_series(0, 99999) f, string_to_array($1, ' ') w`,
    [WORDS],
  );
  await client.query(
    `CREATE TEMP TABLE zfrag AS SELECT f, (SELECT string_agg(w[1 + floor(array_length(w, 1) * random() ^ 2)::int + 0 * k], '')
       FROM generate_series(1, 3 + f % 6) k) AS t FROM generate_series(0, 9999) f, string_to_array($1, ' ') w`,
    [CHINESE],
  );
  await client.query(`CREATE INDEX ON frag (f); CREATE INDEX ON zfrag (f); CREATE INDEX ON r (n); ANALYZE frag; ANALYZE zfrag; ANALYZE r`);
  await client.query(
    `INSERT INTO messages (room_id, author_id, seq, body, created_at, search_vector)
     SELECT r.id, u.id, row_number() OVER (PARTITION BY r.id ORDER BY g.n), g.body, now() - ($1 - g.n) * interval '1 second',
            ${VECTOR_OF_BODY}
     FROM (
       SELECT n, floor(random() * 1000)::int AS room,
         CASE
           WHEN n % 10 = 3 THEN (SELECT t FROM zfrag WHERE f = (n * 31) % 10000)
           WHEN n % 50 = 7 THEN (SELECT t FROM frag WHERE f = (n * 13) % 100000) || ' Parley' || (SELECT t FROM zfrag WHERE f = (n * 17) % 10000)
           ELSE (SELECT t FROM frag WHERE f = (n * 13) % 100000) || ' ' || (SELECT t FROM frag WHERE f = (n * 37 + 11) % 100000)
                || CASE WHEN n % 20 = 0 THEN ' kite' || ((n / 20) % 5000) ELSE '' END
         END AS body
       FROM generate_series(1::bigint, $1) n
     ) g JOIN r ON r.n = g.room JOIN u ON u.n = (g.room * 2 + (g.n % 10) * 200) % 2000`,
    [messages],
  );
  await client.query(`UPDATE rooms SET last_seq = s.m FROM (SELECT room_id, max(seq) AS m FROM messages GROUP BY room_id) s WHERE rooms.id = s.room_id`);
  await client.query(CREATE_SEARCH_INDEX);
  await client.query(`VACUUM ANALYZE messages`);
  await client.query(`VACUUM ANALYZE room_memberships`);
  const viewer = (await client.query<{ id: string }>(`SELECT id FROM u WHERE n = 2000`)).rows[0]!.id;
  // One sender per room for the send test: the room's first author, in 100 rooms.
  const senders = (
    await client.query<{ id: string; room: string }>(`SELECT u.id, r.id AS room FROM r JOIN u ON u.n = (r.n * 2) % 2000 WHERE r.n % 10 = 1 ORDER BY r.n`)
  ).rows;
  return { viewer, senders };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const SEARCH = 'query($q: String!) { searchMessages(query: $q, first: 20) { edges { cursor highlight node { id body createdAt } } pageInfo { hasNextPage endCursor } } }';

function search(port: number, bearer: string, query: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `http://127.0.0.1:${port}/graphql`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const result = JSON.parse(text) as { errors?: unknown; data?: { searchMessages: { edges: unknown[] } } };
          if (result.errors) reject(new Error(JSON.stringify(result.errors)));
          else resolve(result.data!.searchMessages.edges.length);
        });
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify({ query: SEARCH, variables: { q: query } }));
  });
}

interface Latencies {
  kind: string;
  query: string;
  results: number;
  p50: number;
  p95: number;
}

/** First pages, one request at a time, queries interleaved; `rounds` per query after one warm-up round. */
async function measureSearches(server: BenchServer, bearer: string, rounds: number): Promise<{ all: number[]; byQuery: Latencies[] }> {
  const samples = new Map<string, number[]>();
  const results = new Map<string, number>();
  for (let round = -1; round < rounds; round++) {
    for (const { query } of SEARCH_QUERIES) {
      const started = performance.now();
      results.set(query, await search(server.port, bearer, query));
      if (round >= 0) samples.set(query, [...(samples.get(query) ?? []), performance.now() - started]);
    }
  }
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  return {
    all: sorted([...samples.values()].flat()),
    byQuery: SEARCH_QUERIES.map(({ kind, query }) => {
      const values = sorted(samples.get(query)!);
      return { kind, query, results: results.get(query)!, p50: percentile(values, 50), p95: percentile(values, 95) };
    }),
  };
}

const SEND_BODIES = ['deploy the release after the meeting tomorrow', '我们明天去北京开会，记得带文档', 'Parley支持中文 and the tests are green', 'lunch at noon? the pizza place near the office'];

/** Sends as fast as `senders` can with `window` sends in flight each, for `seconds`: acknowledged sends per second. */
async function measureSends(server: BenchServer, senders: { id: string; room: string }[], seconds: number, window: number) {
  const sockets = await Promise.all(senders.map(async (s, i) => WsSender.open(server.port, await token(s.id), `127.0.0.${2 + (i % 49)}`)));
  let sent = 0;
  let failed = 0;
  const cpu = { server: server.cpuMicros(), postgres: postgresCpuMicros() };
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    sockets.flatMap((socket, i) =>
      Array.from({ length: window }, async () => {
        while (performance.now() < deadline) {
          try {
            await socket.send(senders[i]!.room, `${SEND_BODIES[sent % SEND_BODIES.length]} ${sent}`);
            sent++;
          } catch {
            failed++;
          }
        }
      }),
    ),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const socket of sockets) socket.close();
  return {
    sent,
    perSecond: sent / elapsed,
    failed,
    serverMicrosPerSend: (server.cpuMicros() - cpu.server) / Math.max(1, sent),
    postgresMicrosPerSend: postgresCpuSince(cpu.postgres) / Math.max(1, sent),
  };
}

export interface SearchBenchOptions {
  messages: number;
  rounds: number;
  sendSeconds: number;
  sendRuns: number;
}

type SendMode = 'off' | 'async' | 'sync';

interface SendRun extends Awaited<ReturnType<typeof measureSends>> {
  mode: SendMode;
  /** async: messages left unindexed when the send window closed, and the time until none was left. */
  backlog?: number;
  catchUpSeconds?: number;
  /** async: PostgreSQL CPU of the window and the catch-up, per send. */
  postgresMicrosPerSendWithCatchUp?: number;
}

async function pendingCount(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE search_vector IS NULL AND deleted_at IS NULL`);
  return rows[0]!.n;
}

async function untilIndexed(client: pg.Client): Promise<void> {
  while ((await pendingCount(client)) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * One run of sends in `mode`. off: both search indexes dropped, then the run's messages indexed and the indexes
 * rebuilt. async: the shipped server (its indexer on the defaults); the backlog is counted when the window closes
 * and polled every 50 ms until it is gone. sync: a BEFORE INSERT trigger computes the vector in the send's INSERT
 * (a trigger costs a little more than the generated column did). off and sync use a server whose indexer does not run.
 */
async function sendRun(
  mode: SendMode,
  client: pg.Client,
  servers: { shipped: BenchServer; quiet: BenchServer },
  senders: { id: string; room: string }[],
  seconds: number,
): Promise<SendRun> {
  switch (mode) {
    case 'off': {
      await client.query(`DROP INDEX messages_search_idx`);
      await client.query(`DROP INDEX messages_search_pending_idx`);
      const run = await measureSends(servers.quiet, senders, seconds, 2);
      await client.query(`UPDATE messages SET search_vector = ${VECTOR_OF_BODY} WHERE search_vector IS NULL AND deleted_at IS NULL`);
      await client.query(CREATE_SEARCH_INDEX);
      await client.query(CREATE_PENDING_INDEX);
      await client.query(`VACUUM ANALYZE messages`);
      return { mode, ...run };
    }
    case 'async': {
      const postgres = postgresCpuMicros();
      const run = await measureSends(servers.shipped, senders, seconds, 2);
      const closed = performance.now();
      const backlog = await pendingCount(client);
      await untilIndexed(client);
      const catchUpSeconds = backlog === 0 ? 0 : (performance.now() - closed) / 1000;
      const postgresMicrosPerSendWithCatchUp = postgresCpuSince(postgres) / Math.max(1, run.sent);
      await client.query(`VACUUM ANALYZE messages`);
      return { mode, ...run, backlog, catchUpSeconds, postgresMicrosPerSendWithCatchUp };
    }
    case 'sync': {
      await client.query(
        `CREATE FUNCTION bench_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN NEW.search_vector := to_tsvector('simple', parley_search_text(NEW.body)); RETURN NEW; END $$`,
      );
      await client.query(`CREATE TRIGGER bench_search_vector BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION bench_search_vector()`);
      try {
        return { mode, ...(await measureSends(servers.quiet, senders, seconds, 2)) };
      } finally {
        await client.query(`DROP TRIGGER bench_search_vector ON messages`);
        await client.query(`DROP FUNCTION bench_search_vector()`);
        await client.query(`VACUUM ANALYZE messages`);
      }
    }
    default:
      return mode satisfies never;
  }
}

const MODES: SendMode[] = ['off', 'async', 'sync'];

/** The "Search" section of BENCHMARKS.md. */
export async function searchReport(databaseUrl: string, serverEnv: NodeJS.ProcessEnv, core: number | undefined, options: SearchBenchOptions): Promise<string> {
  const shipped = await startBenchServer('parley', serverEnv, core); // migrates the new database
  const quiet = await startBenchServer('parley', { ...serverEnv, SEARCH_INDEX_DELAY: '1h', SEARCH_INDEX_INTERVAL: '1h' }, core);
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => {}); // the bench's DROP DATABASE ... WITH (FORCE) may end it
  let generationSeconds: number;
  let sizes: { table: string; index: string };
  let searches: Awaited<ReturnType<typeof measureSearches>>;
  let senderCount: number;
  const sends: SendRun[] = [];
  try {
    await client.connect();
    const generationStarted = performance.now();
    const { viewer, senders } = await generate(client, options.messages);
    senderCount = senders.length;
    generationSeconds = (performance.now() - generationStarted) / 1000;
    sizes = (
      await client.query<{ table: string; index: string }>(
        `SELECT pg_size_pretty(pg_table_size('messages')) AS table, pg_size_pretty(pg_relation_size('messages_search_idx')) AS index`,
      )
    ).rows[0]!;
    console.error(`search bench: ${options.messages} messages generated and indexed in ${generationSeconds.toFixed(0)} s`);
    searches = await measureSearches(shipped, await token(viewer), options.rounds);
    console.error(`search bench: p50 ${percentile(searches.all, 50).toFixed(1)} ms, p95 ${percentile(searches.all, 95).toFixed(1)} ms`);
    await measureSends(quiet, senders, 2, 2); // warm-up
    await measureSends(shipped, senders, 2, 2);
    await untilIndexed(client);
    for (let run = 0; run < options.sendRuns; run++) {
      for (const mode of MODES) {
        const result = await sendRun(mode, client, { shipped, quiet }, senders, options.sendSeconds);
        sends.push(result);
        const catchUp = result.backlog === undefined ? '' : `, backlog ${result.backlog}, caught up in ${result.catchUpSeconds!.toFixed(2)} s`;
        console.error(`search bench: sends ${mode} ${result.perSecond.toFixed(0)}/s${catchUp}`);
      }
    }
  } finally {
    await Promise.all([shipped.stop(), quiet.stop()]);
    await client.end().catch(() => {});
  }
  const mean = (mode: SendMode, pick: (s: SendRun) => number) => {
    const runs = sends.filter((s) => s.mode === mode);
    return runs.reduce((sum, s) => sum + pick(s), 0) / runs.length;
  };
  const rate = (mode: SendMode) => mean(mode, (s) => s.perSecond);
  const lower = (mode: SendMode) => (1 - rate(mode) / rate('off')) * 100;
  const p95 = percentile(searches.all, 95);

  const lines: string[] = [];
  lines.push(`## Search: ${options.messages.toLocaleString('en')} messages in 1,000 rooms, a member of 50 rooms searching`, '');
  lines.push(
    "Command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench -- --search-only` (the machine's PostgreSQL 15; the bench creates and drops its own database).",
    `Corpus generated with set-based SQL in ${generationSeconds.toFixed(0)} s: English fragments drawn from a ${WORDS.split(' ').length}-word vocabulary with a long-tailed frequency, a tenth Chinese, 1 in 50 mixed; table ${sizes.table}, search index ${sizes.index}.`,
    `Latency: first pages (first: 20, with highlights) over HTTP, one request at a time, the ${SEARCH_QUERIES.length} queries interleaved, ${options.rounds} rounds after a warm-up round (nothing unindexed: each search's indexing of its rooms' backlog finds nothing to do).`,
    '',
    '| query | kind | results on the page | p50 ms | p95 ms |',
    '|---|---|---|---|---|',
  );
  for (const q of searches.byQuery) lines.push(`| \`${q.query}\` | ${q.kind} | ${q.results} | ${q.p50.toFixed(1)} | ${q.p95.toFixed(1)} |`);
  lines.push(`| all | | | ${percentile(searches.all, 50).toFixed(1)} | **${p95.toFixed(1)}** |`, '');
  lines.push(
    `Sends: ${senderCount} senders over graphql-ws, 2 sends in flight each (saturating), ${options.sendSeconds} s per run, group commit on (the default), three modes interleaved (${MODES.join(', ')}, ${options.sendRuns} rounds): **off** no search indexes (both dropped; the run's messages are indexed and the indexes rebuilt after it); **async** as shipped (sends write no vector; the search indexer, SEARCH_INDEX_DELAY 200 ms, batches of 500, fills it in); **sync** a BEFORE INSERT trigger computes the vector in the send's statement, as the generated column did before. PostgreSQL CPU counts every PostgreSQL process: in async, the indexer's work during the window; the last column adds its catch-up after the window.`,
    '',
    '| mode | sends/s | failed | server CPU µs/send | PostgreSQL CPU µs/send | backlog when the window closed | catch-up | PostgreSQL CPU µs/send with the catch-up |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const s of sends) {
    const async = s.backlog !== undefined;
    lines.push(
      `| ${s.mode} | ${s.perSecond.toFixed(0)} | ${s.failed} | ${s.serverMicrosPerSend.toFixed(0)} | ${s.postgresMicrosPerSend.toFixed(0)} | ${async ? s.backlog : ''} | ${async ? `${s.catchUpSeconds!.toFixed(2)} s` : ''} | ${async ? s.postgresMicrosPerSendWithCatchUp!.toFixed(0) : ''} |`,
    );
  }
  lines.push('');
  lines.push('| target | met | measured |', '|---|---|---|');
  lines.push(`| first page p95 ≤ 50 ms for a member of 50 rooms | ${p95 <= 50 ? 'yes' : '**no**'} | ${p95.toFixed(1)} ms (p50 ${percentile(searches.all, 50).toFixed(1)} ms) |`);
  for (const mode of ['async', 'sync'] as const) {
    lines.push(
      `| sends, ${mode}, ≤ 10% lower than off | ${lower(mode) <= 10 ? 'yes' : '**no**'} | ${rate(mode).toFixed(0)}/s vs ${rate('off').toFixed(0)}/s off: ${lower(mode).toFixed(1)}% lower; PostgreSQL CPU ${mean(mode, (s) => s.postgresMicrosPerSend).toFixed(0)} vs ${mean('off', (s) => s.postgresMicrosPerSend).toFixed(0)} µs/send |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
