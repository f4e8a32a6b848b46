// `npm run build:web` (run by prestart and pretest): bundles the development playground (web/playground) with Vite
// into dist/web/playground, which the server serves at /playground-assets/. Skipped when the sources, this file
// and package-lock.json are unchanged since the last build, so `npm start` and `npm test` pay for it once.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

const repoRoot = path.join(import.meta.dirname, '..');
const sourceDir = path.join(import.meta.dirname, 'playground');
/** Where the server looks for the bundle (src/transport/playground.ts). */
const outDir = path.join(repoRoot, 'dist/web/playground');
const stampFile = `${outDir}.stamp`;
/** The URL path the server serves `outDir` at; the built index.html refers to its scripts under it. */
const BASE = '/playground-assets/';

async function inputsHash(): Promise<string> {
  const files = [import.meta.filename, path.join(repoRoot, 'package-lock.json')];
  for (const entry of await readdir(sourceDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.push(path.join(entry.parentPath, entry.name));
  }
  const hash = createHash('sha256');
  for (const file of files.sort()) hash.update(file).update('\0').update(await readFile(file)).update('\0');
  return hash.digest('hex');
}

const hash = await inputsHash();
const built = await readFile(stampFile, 'utf8').catch(() => undefined);
const indexPresent = await stat(path.join(outDir, 'index.html')).then(() => true, () => false);
if (built !== hash || !indexPresent || process.argv.includes('--force')) {
  const started = performance.now();
  // Loaded only when needed: importing Vite costs most of a second, which an up-to-date check need not pay.
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
  await build({
    configFile: false,
    root: sourceDir,
    base: BASE,
    logLevel: 'warn',
    plugins: [react()],
    build: {
      outDir,
      emptyOutDir: true,
      // GraphiQL's editor is Monaco: a few MB of script, loaded from this server only, in development only.
      chunkSizeWarningLimit: 8192,
      reportCompressedSize: false,
      rolldownOptions: {
        // React Compiler's "use no memo" markers in GraphiQL: meaningless to a bundle, and the warning is noise.
        onwarn: (warning, warn) => void (warning.code === 'MODULE_LEVEL_DIRECTIVE' || warn(warning)),
      },
    },
  });
  await writeFile(stampFile, hash);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.error(`playground built in ${seconds} s into ${path.relative(repoRoot, outDir)}`);
}
