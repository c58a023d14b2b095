// Bundles the browser demo (apps/gateway/demo-app) with the client SDK into dist/demo.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist', 'demo');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'apps/gateway/demo-app/main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  platform: 'browser',
  target: 'es2020',
  alias: { '@im/client-sdk': join(root, 'libs/client-sdk/src/index.ts') },
  logLevel: 'warning',
});
copyFileSync(join(root, 'apps/gateway/demo-app/index.html'), join(out, 'index.html'));
console.log(`[build] demo bundle ${(statSync(join(out, 'app.js')).size / 1024).toFixed(1)} KiB`);

// The SDK alone, as a browser app would bundle it (reported, not written).
const sdk = await build({
  entryPoints: [join(root, 'libs/client-sdk/src/index.ts')],
  bundle: true,
  minify: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2020',
  write: false,
});
const bytes = sdk.outputFiles[0].contents;
console.log(`[build] client SDK for browsers: ${(bytes.length / 1024).toFixed(1)} KiB minified, ${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped`);
