/**
 * Prints how long each engine test file took, from its first hook to its last (in parallel mode
 * root hooks run once per file, in the worker that runs it): the stage's time per scenario.
 */
import type * as Mocha from "mocha";
import * as path from "path";

let started = 0;

function fileOf(ctx: Mocha.Context): string {
    const root = ctx.test?.parent;
    const file = root?.file ?? root?.suites.find((s) => s.file)?.file;
    return file ? path.relative(process.cwd(), file) : "(unknown file)";
}

export const mochaHooks: Mocha.RootHookObject = {
    beforeAll(this: Mocha.Context) {
        started = Date.now();
        process.env.ONEDIGEST_TEST_FILE = fileOf(this); // for cli.ts's ONEDIGEST_CLI_LOG
    },
    afterAll(this: Mocha.Context) {
        console.log(`  [time] ${fileOf(this)}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
};
