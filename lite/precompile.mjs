// Runs lite/precompile.py inside the site's own Pyodide (Node.js), so the bytecode it writes is
// exactly what the browser's interpreter reads. Called by lite/precompile.py's precompile():
//     node lite/precompile.mjs PYODIDE_DIR lite/precompile.py JOBS_JSON
// The host's file system is mounted at /host; the jobs name host paths.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [pyodideDir, script, jobs] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(`${pyodideDir}/pyodide.mjs`).href);
const py = await loadPyodide({ indexURL: `${pyodideDir}/` });
py.FS.mkdir("/host");
py.FS.mount(py.FS.filesystems.NODEFS, { root: "/" }, "/host");
const module = py.runPython(
  `import types\nm = types.ModuleType('kafkalab_precompile')\nm.__file__ = '/host${script}'\nm`,
);
py.runPython(readFileSync(script, "utf8"), { globals: module.__dict__ });
module.run(jobs, "/host");
