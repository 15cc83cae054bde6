/**
 * The file of the `samsa` command this process runs, which `cluster up` and the chaos harness start
 * every node and service with: dist/main.js under tsc's output, bundle/main.js under the bundled
 * build (scripts/bundle.mjs), so a cluster started from the bundle runs on the bundle too. This
 * module sits beside main.ts (in the bundle: in the same folder as main.js, whichever chunk it
 * lands in) so that './main.js' names the entry point in both layouts.
 */
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));
