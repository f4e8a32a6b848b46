// `npm run build:web` (run by prestart and pretest) bundles the browser pages with Vite:
// - the chat app (web/app, with the client SDK from src/client) into dist/web/app, served at / and /app-assets/;
// - the development playground (web/playground) into dist/web/playground, served under /playground-assets/.
// Each is skipped when its sources, this file and package-lock.json are unchanged since its last build, so
// `npm start` and `npm test` pay for it once.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

const repoRoot = path.join(import.meta.dirname, '..');

interface Bundle {
  name: string;
  /** The page's directory (its index.html is Vite's entry). */
  sourceDir: string;
  /** Other directories whose files it bundles (a change there rebuilds it). */
  alsoFrom: string[];
  /** Where the server looks for the bundle (src/transport/chat-app.ts, playground.ts). */
  outDir: string;
  /** The URL path the server serves `outDir` at; the built index.html refers to its scripts under it. */
  base: string;
  /** Vite warns above this size (kB). */
  chunkSizeWarningLimit: number;
}

const BUNDLES: Bundle[] = [
  {
    name: 'chat app',
    sourceDir: path.join(import.meta.dirname, 'app'),
    alsoFrom: [path.join(repoRoot, 'src/client')],
    outDir: path.join(repoRoot, 'dist/web/app'),
    base: '/app-assets/',
    chunkSizeWarningLimit: 500,
  },
  {
    name: 'playground',
    sourceDir: path.join(import.meta.dirname, 'playground'),
    alsoFrom: [],
    outDir: path.join(repoRoot, 'dist/web/playground'),
    // GraphiQL's editor is Monaco: a few MB of script, loaded from this server only, in development only.
    base: '/playground-assets/',
    chunkSizeWarningLimit: 8192,
  },
];

async function inputsHash(bundle: Bundle): Promise<string> {
  const files = [import.meta.filename, path.join(repoRoot, 'package-lock.json')];
  for (const dir of [bundle.sourceDir, ...bundle.alsoFrom]) {
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(path.join(entry.parentPath, entry.name));
    }
  }
  const hash = createHash('sha256');
  for (const file of files.sort()) hash.update(file).update('\0').update(await readFile(file)).update('\0');
  return hash.digest('hex');
}

for (const bundle of BUNDLES) {
  const stampFile = `${bundle.outDir}.stamp`;
  const hash = await inputsHash(bundle);
  const built = await readFile(stampFile, 'utf8').catch(() => undefined);
  const indexPresent = await stat(path.join(bundle.outDir, 'index.html')).then(() => true, () => false);
  if (built === hash && indexPresent && !process.argv.includes('--force')) continue;
  const started = performance.now();
  // Loaded only when needed: importing Vite costs most of a second, which an up-to-date check need not pay.
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
  await build({
    configFile: false,
    root: bundle.sourceDir,
    base: bundle.base,
    logLevel: 'warn',
    plugins: [react()],
    build: {
      outDir: bundle.outDir,
      emptyOutDir: true,
      chunkSizeWarningLimit: bundle.chunkSizeWarningLimit,
      reportCompressedSize: false,
      rolldownOptions: {
        // React Compiler's "use no memo" markers in GraphiQL: meaningless to a bundle, and the warning is noise.
        onwarn: (warning, warn) => void (warning.code === 'MODULE_LEVEL_DIRECTIVE' || warn(warning)),
      },
    },
  });
  // Sources edited while it built may or may not be in the bundle: then leave no stamp, so the next run rebuilds.
  if ((await inputsHash(bundle)) === hash) await writeFile(stampFile, hash);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.error(`${bundle.name} built in ${seconds} s into ${path.relative(repoRoot, bundle.outDir)}`);
}
