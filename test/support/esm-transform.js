// Jest's module loader cannot require ES modules, which Node 24 itself can: @platformatic/kafka
// ships only ESM, so specs that load it get its files turned into CommonJS here (the services
// run on Node 24 and load the package as it is).
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      loader: 'js',
      format: 'cjs',
      target: 'node22',
      sourcefile: filename,
      sourcemap: 'inline',
      define: { 'import.meta.url': '__importMetaUrl' },
      banner: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;",
    });
    return { code, map };
  },
};
