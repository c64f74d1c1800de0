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

/**
 * `mapped` (a source-map-aware Error.prepareStackTrace) given only the program's own frames; frames
 * under node_modules are V8's text, never looked up in a source map. The SDK takes a stack trace for
 * every resource it registers (its source position), so mapping the SDK's frames too would parse
 * @pulumi/pulumi's and the providers' source maps on every run: ~0.3 s of CPU per `pulumi up`.
 */
export function keepNodeModulesFrames(mapped: Prepare): Prepare {
    return (error, sites) => {
        if (!sites.some(outside)) return mapped(error, sites);
        const own = sites.filter((site) => !outside(site));
        const text = mapped(error, own);
        if (typeof text !== "string") return text;
        const lines = text.split("\n");
        if (lines.length < own.length) return text;
        const head = lines.slice(0, lines.length - own.length);
        const ownLines = lines.slice(lines.length - own.length);
        let next = 0;
        const frames = sites.map((site) => (outside(site) ? `    at ${String(site)}` : ownLines[next++]));
        return [...head, ...frames].join("\n");
    };
}

const installed = Error.prepareStackTrace as Prepare | undefined;
if (installed) Error.prepareStackTrace = keepNodeModulesFrames(installed);
