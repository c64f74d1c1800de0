/**
 * The policy pack (policy/, docs/policy.md) through the real Pulumi CLI and engine:
 *
 * - one fixture program per mandatory policy (policy/fixtures/<policy>/) breaks exactly that
 *   policy: `pulumi preview --policy-pack policy` fails, and every policy event is that policy's;
 * - the project's own stacks hold every policy: `local` (preview, `up`, and a preview of what runs),
 *   and, through the fake aws and gcp plugins (test/engine/clouds.ts), `dev`, `prod` promoted from
 *   it and a production Beanstalk stack, each `up` and previewed again with the pack.
 *
 * The CLI starts a Node.js pack through its language host's RunPlugin, which the offline
 * toolchain's v3.68 host refuses ("not supported"), so PATH starts with policy/toolchain, a host
 * that passes every call to that one and runs the pack itself (policy/toolchain/runPlugin.js).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { parse as parseYaml } from "yaml";

import { FakeHeroku } from "../heroku/fakeHeroku";
import { ROOT } from "../mocks";
import { SecureRegistry } from "../registry";
import { freePort } from "../pipeline/docker";
import { FakeClouds } from "./clouds";
import { Stack, cliEnv, ok, tempDir, type Result } from "./cli";
import { setStrings } from "./day2/awsState";

const POLICY = path.join(ROOT, "policy");
const FIXTURES = path.join(POLICY, "fixtures");
const TOOLCHAIN = path.join(POLICY, "toolchain");
const HEROKU_KEY = "policy-heroku-key-0123456789";
const CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

interface PolicyEvent {
    readonly policyName: string;
    readonly enforcementLevel: string;
    readonly message: string;
    readonly resourceUrn?: string;
}

/** The policy events of a `pulumi preview --json` run with PULUMI_ENABLE_STREAMING_JSON_PREVIEW. */
export function policyEvents(stdout: string): PolicyEvent[] {
    return stdout
        .split("\n")
        .filter((line) => line.includes('"policyEvent"'))
        .map((line) => (JSON.parse(line) as { policyEvent: PolicyEvent }).policyEvent);
}

/** The violations an `up` prints under "Policies:" (`- [level]  policy  (type: name)`). */
export function printedViolations(output: string): string[] {
    return [...output.matchAll(/^\s+- \[(mandatory|advisory|disabled)\]\s+(\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
}

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
        assert.ok(fs.existsSync(path.join(POLICY, "node_modules", "@pulumi", "policy")), "the pack's dependencies are not installed: npm ci in policy/ (scripts/test.sh's policy stage does)");
        scratch = tempDir("onedigest-policy-");
        clouds = await FakeClouds.start(path.join(scratch, "clouds"));
        const backend = path.join(scratch, "state");
        fs.mkdirSync(backend);
        env = cliEnv(backend, { ...clouds.env(), PATH: `${TOOLCHAIN}${path.delimiter}${process.env.PATH ?? ""}` });
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

    describe("the project's stacks hold every policy", function () {
        const heroku = new FakeHeroku(HEROKU_KEY);
        const herokuRegistry = new SecureRegistry({ _: HEROKU_KEY });
        const stacks: Stack[] = [];
        let stackEnv: NodeJS.ProcessEnv = {};

        before(async function () {
            await herokuRegistry.start();
            await heroku.start();
            stackEnv = { ...env, HEROKU_API_URL: heroku.url, HEROKU_REGISTRY_URL: `https://${herokuRegistry.host}` };
        });

        after(async function () {
            // Only the local stack runs something outside this test's directory (a container); the
            // fake clouds' stacks go with the directory (prod's Cloud Run service could not be
            // destroyed anyway: it has deletion protection, which the fake holds).
            for (const s of stacks.filter((x) => x.name === "local")) await s.remove().catch((err: Error) => console.log(`      cleanup of ${s.name}: ${err.message.split("\n")[0]}`));
            await heroku.stop();
            await herokuRegistry.stop();
        });

        async function shipped(name: string, config: Record<string, unknown>, secrets: Record<string, string>): Promise<Stack> {
            const file = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${name}.yaml`), "utf8")) as { config?: Record<string, unknown> };
            const s = await Stack.create(name, ROOT, scratch, stackEnv, { ...(file.config ?? {}), ...fakeCloudConfig(), ...config });
            // The stack file's quoted "1" and "2" stay strings (set-all would make them numbers).
            if (name === "prod") await setStrings(s, { "app.env.FORCE_HTTPS": "1", "cloudrun.cpu": "2" });
            for (const [key, value] of Object.entries(secrets)) await s.setConfig(key, value, { secret: true });
            stacks.push(s);
            return s;
        }

        /**
         * An `up` with the pack (every resource checked with its real inputs), then a preview of what
         * runs: no mandatory violation, and only the advisories the stack is known for.
         */
        async function upAndPreview(s: Stack, advisories: readonly string[] = []): Promise<void> {
            const started = Date.now();
            const up = ok(await s.cli(["up", "--yes", "--skip-preview", "--policy-pack", POLICY], { timeoutMs: 600_000 }), `pulumi up ${s.name} --policy-pack policy`);
            assert.deepStrictEqual(printedViolations(up.stdout), advisories.map((a) => `advisory ${a}`), up.stdout.slice(-3000));
            const again = await preview(new Stack(s.name, s.projectDir, s.scratch, withEvents(stackEnv)));
            assert.strictEqual(again.code, 0, `${again.stdout.slice(-3000)}\n${again.stderr.slice(-2000)}`);
            assert.deepStrictEqual([...new Set(policyEvents(again.stdout).map((e) => `${e.enforcementLevel} ${e.policyName}`))], advisories.map((a) => `advisory ${a}`));
            console.log(`      ${s.name}: up and preview with the pack in ${Math.round((Date.now() - started) / 1000)} s`);
        }

        /** What a stack on the fake clouds needs in its config, where the harness names it (the Google APIs' endpoints). */
        const fakeCloudConfig = (): Record<string, string> => (clouds as unknown as { gcpConfig?(): Record<string, string> }).gcpConfig?.() ?? {};

        it("local: a first preview, an up and a preview of what runs, no violation", async function () {
            // The local stack as deploy-local.sh runs it, with an app name and port of its own (deployLocal.test.ts runs beside it).
            fs.mkdirSync(path.join(scratch, "local"));
            const s = await Stack.create("local", ROOT, path.join(scratch, "local"), stackEnv, { app: { name: "policylocal" }, local: { port: await freePort(), prometheusPort: await freePort() } });
            stacks.push(s);
            const first = await preview(new Stack(s.name, s.projectDir, s.scratch, withEvents(stackEnv)));
            assert.strictEqual(first.code, 0, `${first.stdout.slice(-3000)}\n${first.stderr.slice(-2000)}`);
            assert.deepStrictEqual(policyEvents(first.stdout), []);
            await upAndPreview(s);
        });

        it("dev (Cloud Run + Heroku), prod promoted from it (ECS + Cloud Run), and prod-beanstalk: no violation", async function () {
            const dev = await shipped("dev", { "gcp:project": "policy-dev" }, { secretKey: "policy-dev-secret-0123456789abcdef", herokuApiKey: HEROKU_KEY });
            await upAndPreview(dev);
            const logins = [
                { address: clouds.artifactRegistry.host, ...clouds.logins.artifactRegistry },
                { address: clouds.ecr.host, ...clouds.logins.ecr },
            ];
            const prod = await shipped("prod", { "gcp:project": "policy-prod", ecs: { certificateArn: CERTIFICATE, domain: "app.example.com" } }, { secretKey: "policy-prod-secret-0123456789abcdef" });
            // A production Beanstalk stack as test/engine/day2/beanstalk.scenario.ts has it.
            const eb = await Stack.create("prod-beanstalk", ROOT, scratch, stackEnv, {
                ...fakeCloudConfig(),
                "aws:region": "eu-west-1",
                targets: ["aws-beanstalk"],
                app: { name: "onedigest", description: "onedigest" },
                image: { promoteFrom: "dev" },
                beanstalk: { certificateArn: CERTIFICATE, domain: "eb.example.com" },
            });
            stacks.push(eb);
            await setStrings(eb, { "app.env.FORCE_HTTPS": "1" });
            await eb.setConfig("secretKey", "policy-eb-secret-0123456789abcdef", { secret: true });
            for (const [s, advisories] of [
                // The program sets no enableDeletionProtection on its load balancer (docs/policy.md, what the pack finds).
                [prod, ["prod-alb-deletion-protection"]],
                [eb, []],
            ] as const) {
                // The stand-in registries are on 127.0.0.1, which the program does not take for Artifact Registry or ECR: pulls log in through registryAuth.
                for (const [i, login] of logins.entries()) {
                    await s.setConfig(`registryAuth[${i}].address`, login.address, { secret: true, path: true });
                    await s.setConfig(`registryAuth[${i}].username`, login.username, { secret: true, path: true });
                    await s.setConfig(`registryAuth[${i}].password`, login.password, { secret: true, path: true });
                }
                await upAndPreview(s, advisories);
            }
        });
    });
});
