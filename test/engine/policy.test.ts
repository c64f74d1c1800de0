/**
 * The policy pack (policy/, docs/policy.md) through the real Pulumi CLI and engine:
 *
 * - one fixture program per mandatory policy (policy/fixtures/<policy>/) breaks exactly that
 *   policy: `pulumi preview --policy-pack policy` fails, and every policy event is that policy's;
 * - the pack takes each stack's settings from `--policy-pack-config`;
 * - the project's `local` stack holds every policy (preview, `up`, and a preview of what runs). The
 *   shipped stacks on the fake clouds hold them where they are deployed: the day-2 scenarios run
 *   the first `up` and the empty second preview of `dev`, `prod` promoted from it and a production
 *   Beanstalk stack with the pack (test/engine/day2/, test/engine/policyPack.ts).
 *
 * The commands run with policy/toolchain first on PATH (test/engine/policyPack.ts says why).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { ROOT } from "../mocks";
import { freePort } from "../pipeline/docker";
import { FakeClouds } from "./clouds";
import { Stack, cliEnv, ok, tempDir, type Result } from "./cli";
import { POLICY, assertPackInstalled, packEnv, policyEvents, printedViolations, type PolicyEvent } from "./policyPack";

const FIXTURES = path.join(POLICY, "fixtures");

function preview(stack: Stack, extra: readonly string[] = []): Promise<Result> {
    return stack.cli(["preview", "--json", "--policy-pack", POLICY, ...extra], { timeoutMs: 300_000 });
}

/** `pulumi preview` with the pack's events as JSON lines. */
function withEvents(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return { ...env, PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" };
}

/** Runs `tasks` with at most `limit` at once (previews that share nothing; two cores). */
async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
    const results: T[] = new Array(tasks.length);
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(limit, tasks.length) }, async () => {
            while (next < tasks.length) {
                const i = next++;
                results[i] = await tasks[i]();
            }
        }),
    );
    return results;
}

/** What each fixture breaks: its stack, its config, and the messages its preview must show. */
interface Case {
    readonly policy: string;
    readonly stack: string;
    readonly config?: Record<string, unknown>;
    readonly messages: readonly RegExp[];
}

const CASES: readonly Case[] = [
    {
        policy: "images-by-digest",
        stack: "dev",
        messages: [/^aws:ecs\/taskDefinition:TaskDefinition "task": containerDefinitions\[0\]\.image is "nginx:1\.27", a tag; expected repo@sha256:<64 hex>\. Fix: /],
    },
    {
        policy: "one-image-id",
        stack: "dev",
        messages: [/^gcp:cloudrunv2\/service:Service "green": template\.containers\[0\]\.envs\[IMAGE_ID\] runs sha256:b{64}, but gcp:cloudrunv2\/service:Service "blue" runs sha256:a{64}; a stack deploys one image ID \(2 here: .*\)\. Fix: /],
    },
    {
        policy: "no-public-ingress",
        stack: "dev",
        messages: [/^aws:vpc\/securityGroupIngressRule:SecurityGroupIngressRule "ssh-from-anywhere": cidrIpv4 opens tcp 22 to 0\.0\.0\.0\/0; only 80 and 443 .* Fix: /],
    },
    {
        policy: "prod-registries-retained",
        stack: "prod",
        messages: [/^aws:ecr\/repository:Repository "images": forceDelete is true, so deleting the repository deletes every image in it .* Fix: /],
    },
    {
        policy: "prod-deletion-protection",
        stack: "prod",
        messages: [/^gcp:cloudrunv2\/service:Service "service": deletionProtection is false; a production Cloud Run service must set it true\. Fix: /],
    },
    {
        policy: "prod-https",
        stack: "prod",
        messages: [/^aws:lb\/loadBalancer:LoadBalancer "alb": no HTTPS listener on 443 with a certificate; .* Fix: /, /^aws:lb\/listener:Listener "http": defaultActions of the HTTP listener on 80 serve the app instead of redirecting; .* Fix: /],
    },
    {
        policy: "prod-log-retention",
        stack: "prod",
        messages: [/^aws:cloudwatch\/logGroup:LogGroup "logs": retentionInDays is not set \(kept forever\); .* Fix: /],
    },
    {
        policy: "no-plain-secrets",
        stack: "dev",
        messages: [
            /^gcp:cloudrunv2\/service:Service "service": template\.containers\[0\]\.envs\[1\]\.name is UPSTREAM_API_TOKEN, a secret-looking name in plain environment\. Fix: /,
            /^gcp:cloudrunv2\/service:Service "service": template\.containers\[0\]\.envs\[0\]\.value carries in plain the value of a secret input \(gcp:secretmanager\/secretVersion:SecretVersion "seed-value" secretData\)\. Fix: /,
        ],
    },
    {
        policy: "registry-hardening",
        stack: "dev",
        messages: [/^aws:ecr\/repository:Repository "images": imageScanningConfiguration\.scanOnPush is false; .* Fix: /, /^aws:ecr\/repository:Repository "images": imageTagMutability is "MUTABLE"; .* Fix: /],
    },
    {
        policy: "iam-least-privilege",
        stack: "dev",
        messages: [/^aws:iam\/rolePolicy:RolePolicy "admin": policy Statement\[0\] allows Action "\*" on Resource "\*" \(administrator access\)\. Fix: /],
    },
    {
        policy: "signed-images-only",
        stack: "prod",
        config: { "onedigest:image": { promoteFrom: "dev", signedBy: { key: "-----BEGIN PUBLIC KEY-----" } } },
        messages: [/^docker:index\/remoteImage:RemoteImage "pulled": name is "registry\.example\.com\/onedigest:1\.0", not pinned by digest, .* Fix: /],
    },
];

/** A fixture copied out of the tree, with the repository's node_modules (its @pulumi/aws, gcp, docker). */
function prepare(scratch: string, policy: string): string {
    const dir = path.join(scratch, "fixtures", policy);
    fs.cpSync(path.join(FIXTURES, policy), dir, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, "tsconfig.json"), path.join(dir, "tsconfig.json"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    // Its TypeScript loaded as the program's is (scripts/register.js: transpiled once, then from the
    // cache), not by ts-node on every update.
    const project = path.join(dir, "Pulumi.yaml");
    const yaml = fs.readFileSync(project, "utf8");
    assert.ok(yaml.includes("--require ts-node/register/transpile-only"), `${policy}'s Pulumi.yaml: no nodeargs to replace`);
    fs.writeFileSync(project, yaml.replace("--require ts-node/register/transpile-only", `--require ${path.join(ROOT, "scripts", "register.js")}`));
    return dir;
}

describe("policy pack on the real engine", function () {
    let scratch = "";
    let clouds: FakeClouds;
    let env: NodeJS.ProcessEnv = {};

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.NODE_EXTRA_CA_CERTS, "no engine: run through scripts/test.sh, which starts dockerd and the registries");
        assertPackInstalled();
        scratch = tempDir("onedigest-policy-");
        clouds = await FakeClouds.start(path.join(scratch, "clouds"));
        const backend = path.join(scratch, "state");
        fs.mkdirSync(backend);
        env = packEnv(cliEnv(backend, clouds.env()));
    });

    after(async function () {
        if (clouds) await clouds.stop();
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    describe("one fixture per mandatory policy breaks that policy alone", function () {
        const results = new Map<string, { result: Result; events: PolicyEvent[] } | Error>();

        before(async function () {
            await pool(
                CASES.map((c) => async () => {
                    try {
                        const dir = prepare(scratch, c.policy);
                        const own = path.join(scratch, "stacks", c.policy);
                        fs.mkdirSync(own, { recursive: true });
                        const stack = await Stack.create(c.stack, dir, own, withEvents(env), { "aws:region": "eu-west-1", "gcp:project": "policy-fixtures", "gcp:region": "europe-west1", ...(c.config ?? {}) });
                        const result = await preview(stack);
                        results.set(c.policy, { result, events: policyEvents(result.stdout) });
                    } catch (err) {
                        results.set(c.policy, err as Error);
                    }
                }),
                2,
            );
        });

        for (const c of CASES) {
            it(`${c.policy}: ${c.messages.length} message(s), no other policy's`, function () {
                const got = results.get(c.policy)!;
                if (got instanceof Error) throw got;
                const { result, events } = got;
                const context = `${result.stdout.slice(-3000)}\n${result.stderr.slice(-2000)}`;
                assert.notStrictEqual(result.code, 0, `the preview passed:\n${context}`);
                assert.deepStrictEqual([...new Set(events.map((e) => e.policyName))], [c.policy], context);
                assert.ok(events.every((e) => e.enforcementLevel === "mandatory"));
                // The engine prefixes the policy's description; the violation is the last line.
                const messages = events.map((e) => e.message.trim().split("\n").pop() ?? "").sort();
                assert.strictEqual(messages.length, c.messages.length, messages.join("\n"));
                for (const pattern of c.messages) assert.ok(messages.some((m) => pattern.test(m)), `no message matches ${pattern}:\n${messages.join("\n")}`);
            });
        }
    });

    it("takes each stack's settings from --policy-pack-config: the production policies hold where the config says", async function () {
        // The fixture of prod-log-retention as a stack named prod, in a backend of its own (the fixtures' has its own prod).
        const dir = prepare(scratch, "prod-log-retention");
        fs.renameSync(dir, `${dir}-config`);
        const own = path.join(scratch, "pack-config");
        fs.mkdirSync(path.join(own, "state"), { recursive: true });
        const configEnv = withEvents({ ...env, PULUMI_BACKEND_URL: `file://${path.join(own, "state")}` });
        const stack = await Stack.create("prod", `${dir}-config`, own, configEnv, { "aws:region": "eu-west-1" });
        let files = 0;
        const config = (settings: object) => {
            const file = path.join(own, `policy-config-${++files}.json`);
            fs.writeFileSync(file, JSON.stringify(settings));
            return ["--policy-pack-config", file];
        };
        const elsewhere = await preview(stack, config({ "prod-log-retention": { productionPrefix: "live" } }));
        assert.strictEqual(elsewhere.code, 0, `${elsewhere.stdout.slice(-3000)}\n${elsewhere.stderr.slice(-2000)}`);
        assert.deepStrictEqual(policyEvents(elsewhere.stdout), [], "prod is not production where only live* is");
        const advisory = await preview(stack, config({ "prod-log-retention": "advisory", "iam-least-privilege": "disabled" }));
        assert.strictEqual(advisory.code, 0, `${advisory.stdout.slice(-3000)}\n${advisory.stderr.slice(-2000)}`);
        assert.deepStrictEqual(policyEvents(advisory.stdout).map((e) => `${e.enforcementLevel} ${e.policyName}`), ["advisory prod-log-retention"]);
    });

    describe("the project's local stack holds every policy", function () {
        const stacks: Stack[] = [];

        after(async function () {
            // The local stack runs something outside this test's directory (a container).
            for (const s of stacks) await s.remove().catch((err: Error) => console.log(`      cleanup of ${s.name}: ${err.message.split("\n")[0]}`));
        });

        /**
         * An `up` with the pack (every resource checked with its real inputs), then a preview of what
         * runs: no violation.
         */
        async function upAndPreview(s: Stack): Promise<void> {
            const started = Date.now();
            const up = ok(await s.cli(["up", "--yes", "--skip-preview", "--policy-pack", POLICY], { timeoutMs: 600_000 }), `pulumi up ${s.name} --policy-pack policy`);
            assert.deepStrictEqual(printedViolations(up.stdout), [], up.stdout.slice(-3000));
            const again = await preview(new Stack(s.name, s.projectDir, s.scratch, withEvents(env)));
            assert.strictEqual(again.code, 0, `${again.stdout.slice(-3000)}\n${again.stderr.slice(-2000)}`);
            assert.deepStrictEqual(policyEvents(again.stdout), []);
            console.log(`      ${s.name}: up and preview with the pack in ${Math.round((Date.now() - started) / 1000)} s`);
        }

        it("local: a first preview, an up and a preview of what runs, no violation", async function () {
            // The local stack as deploy-local.sh runs it, with an app name and port of its own (deployLocal.test.ts runs beside it).
            fs.mkdirSync(path.join(scratch, "local"));
            const s = await Stack.create("local", ROOT, path.join(scratch, "local"), env, { app: { name: "policylocal" }, local: { port: await freePort(), prometheusPort: await freePort() } });
            stacks.push(s);
            const first = await preview(new Stack(s.name, s.projectDir, s.scratch, withEvents(env)));
            assert.strictEqual(first.code, 0, `${first.stdout.slice(-3000)}\n${first.stderr.slice(-2000)}`);
            assert.deepStrictEqual(policyEvents(first.stdout), []);
            await upAndPreview(s);
        });
    });
});
