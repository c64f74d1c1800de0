/**
 * Stack frames under node_modules keep V8's own text; the program's own frames stay mapped to their
 * TypeScript lines. Imported first by index.ts.
 *
 * Why: the Pulumi Node.js runtime maps every frame through source maps, and @pulumi/pulumi's maps
 * turn its output.js into a file that does not exist (…/node_modules/@pulumi/output.ts). Every error
 * thrown inside an `apply` (a refused promotion, a missing login) has such a frame, and the SDK
 * prints the error with util.inspect(err, { colors: true }), whose node_modules marking of that
 * frame runs for tens of seconds (nodejs/node#64011) before the run can end. bench/failing-up.sh
 * measures it.
 */
type Prepare = (error: Error, sites: NodeJS.CallSite[]) => unknown;

const outside = (site: NodeJS.CallSite): boolean => (site.getFileName() ?? "").includes("/node_modules/");

/** `mapped` (a source-map-aware Error.prepareStackTrace), with frames under node_modules left as V8 prints them. */
export function keepNodeModulesFrames(mapped: Prepare): Prepare {
    return (error, sites) => {
        const text = mapped(error, sites);
        if (typeof text !== "string" || !sites.some(outside)) return text;
        const lines = text.split("\n");
        if (lines.length < sites.length) return text;
        const head = lines.slice(0, lines.length - sites.length);
        const frames = lines.slice(lines.length - sites.length).map((line, i) => (outside(sites[i]) ? `    at ${String(sites[i])}` : line));
        return [...head, ...frames].join("\n");
    };
}

const installed = Error.prepareStackTrace as Prepare | undefined;
if (installed) Error.prepareStackTrace = keepNodeModulesFrames(installed);
