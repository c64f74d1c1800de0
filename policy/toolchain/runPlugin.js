/**
 * A Node.js language host that runs policy packs, for the offline Pulumi toolchain only.
 *
 * Pulumi CLI v3.259.0 starts a Node.js policy pack through its language host's RunPlugin call; the
 * toolchain's host (v3.68.0, the newest the Go module proxy serves) answers RunPlugin with "not
 * supported", so no `--policy-pack` could run there. This host starts the toolchain's own host (the
 * next `pulumi-language-nodejs` on PATH) and passes every call through to it unchanged, byte for
 * byte, except RunPlugin of an analyzer: that one it runs as the pack's own
 * `@pulumi/pulumi/cmd/run-policy-pack` would be run by the `pulumi-analyzer-policy` launcher (in the
 * pack's directory, with the engine's address and the pack), streaming its output back. An official
 * install does not need it.
 */
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");

const grpc = require("@grpc/grpc-js");
const services = require("@pulumi/pulumi/proto/language_grpc_pb");
const language = require("@pulumi/pulumi/proto/language_pb");

const here = path.dirname(fs.realpathSync(__filename));

/** The toolchain's host: the first `pulumi-language-nodejs` on PATH that is not this one. */
function realHost() {
    for (const dir of (process.env.PATH || "").split(path.delimiter)) {
        const candidate = path.join(dir, "pulumi-language-nodejs");
        if (!dir || !fs.existsSync(candidate)) continue;
        if (path.dirname(fs.realpathSync(candidate)) === here) continue;
        return candidate;
    }
    throw new Error("no other pulumi-language-nodejs on PATH");
}

/** Starts the real host with our arguments; resolves with its port once it prints it. */
function startHost(args) {
    return new Promise((resolve, reject) => {
        const child = spawn(realHost(), args, { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        const onData = (chunk) => {
            out += chunk.toString();
            const newline = out.indexOf("\n");
            if (newline < 0) return;
            child.stdout.off("data", onData);
            child.stdout.pipe(process.stdout);
            resolve({ child, port: out.slice(0, newline).trim() });
        };
        child.stdout.on("data", onData);
        child.on("error", reject);
        child.on("exit", (code) => reject(new Error(`pulumi-language-nodejs exited ${code} before it served`)));
    });
}

const raw = { serialize: (b) => b, deserialize: (b) => b };

/** Runs an analyzer plugin (a policy pack) the way the pulumi-analyzer-policy launcher does. */
function runAnalyzer(call) {
    const request = call.request;
    const info = request.getInfo();
    const packDir = (info && info.getProgramDirectory()) || request.getPwd();
    const script = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    const env = { ...process.env };
    for (const entry of request.getEnvList()) {
        const eq = entry.indexOf("=");
        if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    const args = request.getArgsList();
    // The engine passes its address (and logging flags); the launcher adds the pack, ".".
    const child = spawn(process.execPath, [script, ...args, "."], { cwd: packDir, env, stdio: ["ignore", "pipe", "pipe"] });
    const send = (set) => {
        const message = new language.RunPluginResponse();
        set(message);
        call.write(message);
    };
    child.stdout.on("data", (d) => send((m) => m.setStdout(d)));
    child.stderr.on("data", (d) => send((m) => m.setStderr(d)));
    child.on("close", (code) => {
        send((m) => m.setExitcode(code === null ? 1 : code));
        call.end();
    });
    call.on("cancelled", () => child.kill("SIGTERM"));
}

async function main() {
    const { child, port } = await startHost(process.argv.slice(2));
    const Client = grpc.makeGenericClientConstructor({}, "LanguageRuntime");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    const handlers = {};
    const definition = {};
    for (const [name, method] of Object.entries(services.LanguageRuntimeService)) {
        if (name === "runPlugin") {
            definition[name] = method;
            handlers[name] = (call) => {
                if (call.request.getKind() === "analyzer") return runAnalyzer(call);
                const upstream = client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, call.request, call.metadata);
                upstream.on("data", (m) => call.write(m));
                upstream.on("end", () => call.end());
                upstream.on("error", (e) => call.destroy(e));
            };
            continue;
        }
        definition[name] = { ...method, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize };
        if (!method.requestStream && !method.responseStream) {
            handlers[name] = (call, callback) => client.makeUnaryRequest(method.path, raw.serialize, raw.deserialize, call.request, call.metadata, callback);
        } else if (!method.requestStream && method.responseStream) {
            handlers[name] = (call) => {
                const upstream = client.makeServerStreamRequest(method.path, raw.serialize, raw.deserialize, call.request, call.metadata);
                upstream.on("data", (m) => call.write(m));
                upstream.on("end", () => call.end());
                upstream.on("error", (e) => call.destroy(e));
            };
        } else {
            handlers[name] = (call, callback) => (callback ?? ((e) => call.destroy(e)))({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not passed through` });
        }
    }
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(definition, handlers);
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) throw err;
        process.stdout.write(`${bound}\n`);
    });
    const stop = () => {
        child.kill("SIGTERM");
        server.forceShutdown();
        process.exit(0);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    child.on("exit", () => process.exit(0));
}

main().catch((e) => {
    console.error(e.stack || String(e));
    process.exit(1);
});
