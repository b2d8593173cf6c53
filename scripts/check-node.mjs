// npm scripts run under the Node from the `node` devDependency (npm puts node_modules/.bin
// first on PATH). If that did not happen (e.g. `npm install --ignore-scripts`), say so loudly
// instead of letting wrangler fail obscurely on Node 20.
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  console.error(
    `This project needs Node >= 22 (running ${process.version}).\n` +
      'Run it through npm (`npm run dev`, `npm test`) after a plain `npm install`, which installs ' +
      'Node 24 locally as a devDependency.',
  )
  process.exit(1)
}
