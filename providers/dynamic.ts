/**
 * Loading a module inside Pulumi's dynamic-provider process. Pulumi serializes a dynamic provider's
 * functions into the state and runs them there with the project directory as working directory, so
 * the module is looked up by its project-relative path first (a checkout moved elsewhere, another CI
 * runner, still finds its own copy), then by the absolute path it had when serialized; TypeScript
 * loads through ts-node when the program runs uncompiled.
 */
export function loadDynamicModule<T>(relative: string, absolute: string): T {
    const fs = require("fs") as typeof import("fs");
    const nodePath = require("path") as typeof import("path");
    const candidates = [nodePath.join(process.cwd(), relative), absolute];
    const found = candidates.find((c) => fs.existsSync(`${c}.js`) || fs.existsSync(`${c}.ts`)) ?? absolute;
    const registered = (process as unknown as Record<symbol, unknown>)[Symbol.for("ts-node.register.instance")];
    if (!fs.existsSync(`${found}.js`) && !registered) {
        (require("ts-node") as { register(o: object): void }).register({ transpileOnly: true });
    }
    return require(found) as T;
}
