/**
 * The Pulumi SDK captures a stack trace for every promise it makes (debuggablePromise, for its
 * leak report) and a whole one for every resource (Resource.callsites, for the resource's source
 * position). Under ts-node each capture is mapped through source maps, which took about half of a
 * program run's time under mocks. Those two captures keep V8's own text (no source maps: the mocks
 * never read them); every other stack, a failing test's included, is still mapped to the .ts lines.
 */
type Prepare = (error: Error, sites: NodeJS.CallSite[]) => unknown;

const mapped = Error.prepareStackTrace as Prepare | undefined;
if (!mapped) throw new Error("test/sdkStacks.ts must be loaded after ts-node/register (which maps stacks to .ts lines)");

const SDK_CAPTURES = new Set(["debuggablePromise", "callsites"]);

Error.prepareStackTrace = (error: Error, sites: NodeJS.CallSite[]): unknown => {
    if (SDK_CAPTURES.has(sites[0]?.getFunctionName() ?? "")) {
        return `${String(error)}${sites.map((site) => `\n    at ${String(site)}`).join("")}`;
    }
    return mapped(error, sites);
};
