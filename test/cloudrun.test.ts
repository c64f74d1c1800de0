/** gcp-cloudrun: recorded inputs and bad input. */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { CLOUD_RUN_KILL_SECONDS, REQUIRED_APIS } from "../providers/gcpCloudRun";
import { GRACEFUL_TIMEOUT_SECONDS, requestsInFlight } from "../providers/types";
import { beforeProgram, configError } from "./helpers";
import { PUSH, ROOT, isSecret, pushLoginOf, reveal, runProgram, runProgramError, type ProgramRun, type Recorded } from "./mocks";

const GCP = { "gcp:project": "onedigest-test", "gcp:region": "europe-west1" };

interface Container {
    image: string;
    envs: Array<{ name: string; value?: string; valueSource?: { secretKeyRef: { secret: string; version: string } } }>;
    ports: { containerPort: number };
    resources: { limits: Record<string, string>; startupCpuBoost: boolean };
    startupProbe: { httpGet: { path: string } };
    livenessProbe: { httpGet: { path: string } };
}

describe("gcp-cloudrun: recorded inputs", () => {
    let run: ProgramRun;
    let service: Recorded;
    let container: Container;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, app: { env: { LOG_LEVEL: "INFO" } } });
        [service] = run.ofType("gcp:cloudrunv2/service:Service");
        container = (service.inputs.template as { containers: Container[] }).containers[0];
    });

    it("is a Cloud Run v2 service (no v1 cloudrun.Service)", () => {
        assert.strictEqual(run.ofType("gcp:cloudrunv2/service:Service").length, 1);
        assert.strictEqual(run.mocks.resources.filter((r) => r.type.startsWith("gcp:cloudrun/")).length, 0);
    });

    it("runs the Artifact Registry image by digest on the app's port", () => {
        assert.match(container.image, /^europe-west1-docker\.pkg\.dev\/onedigest-test\/onedigest-test\/onedigest@sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual(container.ports, { containerPort: 8080 });
        const [repo] = run.ofType("gcp:artifactregistry/repository:Repository");
        assert.strictEqual(repo.inputs.format, "DOCKER");
        assert.strictEqual(repo.inputs.location, "europe-west1");
    });

    it("pushes to the repository's own endpoint with a short-lived OAuth token as a secret input", () => {
        const [push] = run.ofType(PUSH);
        assert.deepStrictEqual(pushLoginOf(push), { server: "europe-west1-docker.pkg.dev", username: "oauth2accesstoken", password: "ya29.short-lived-token" });
        assert.strictEqual(push.inputs.repository, "europe-west1-docker.pkg.dev/onedigest-test/onedigest-test/onedigest");
    });

    it("probes /healthcheck at startup and for liveness", () => {
        assert.strictEqual(container.startupProbe.httpGet.path, "/healthcheck");
        assert.strictEqual(container.livenessProbe.httpGet.path, "/healthcheck");
    });

    it("sets scaling bounds, cpu/memory, concurrency and startup CPU boost", () => {
        const template = service.inputs.template as { scaling: Record<string, number>; maxInstanceRequestConcurrency: number };
        assert.deepStrictEqual(template.scaling, { minInstanceCount: 0, maxInstanceCount: 10 });
        // 2 workers × 4 threads at 1 CPU: more would queue inside the instance instead of scaling out.
        assert.strictEqual(template.maxInstanceRequestConcurrency, 8);
        assert.deepStrictEqual(container.resources.limits, { cpu: "1", memory: "512Mi" });
        assert.strictEqual(container.resources.startupCpuBoost, true);
        assert.strictEqual(service.inputs.ingress, "INGRESS_TRAFFIC_ALL");
        assert.strictEqual(service.inputs.deletionProtection, false);
    });

    it("reads SECRET_KEY through secretKeyRef pinned to the created version, never as a plain value", () => {
        const secretEnv = container.envs.find((e) => e.name === "SECRET_KEY")!;
        assert.strictEqual(secretEnv.value, undefined);
        assert.deepStrictEqual(secretEnv.valueSource, { secretKeyRef: { secret: "onedigest-test-secret-key", version: "1" } });
        assert.deepStrictEqual(container.envs.filter((e) => e.value !== undefined).map((e) => e.name), ["LOG_LEVEL", "PROXY_FIX_COUNT", "IMAGE_ID"]);
        const [version] = run.ofType("gcp:secretmanager/secretVersion:SecretVersion");
        assert.ok("4dabf18193072939515e22adb298388d" in (version.inputs.secretData as object), "secret data must be a Pulumi secret");
    });

    it("leaves an app.env FORCE_HTTPS out: Cloud Run redirects to HTTPS itself, and the app would refuse it without a CANONICAL_HOST", async () => {
        const https = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, app: { env: { FORCE_HTTPS: "1", LOG_LEVEL: "INFO" } } });
        const [svc] = https.ofType("gcp:cloudrunv2/service:Service");
        const envs = (svc.inputs.template as { containers: Array<{ envs: Array<{ name: string }> }> }).containers[0].envs.map((e) => e.name);
        assert.deepStrictEqual(envs, ["LOG_LEVEL", "PROXY_FIX_COUNT", "IMAGE_ID", "SECRET_KEY"]);
    });

    it("runs as a dedicated service account holding only secretAccessor on that secret", () => {
        const [account] = run.ofType("gcp:serviceaccount/account:Account");
        const email = `${String(account.inputs.accountId)}@onedigest-test.iam.gserviceaccount.com`;
        const template = service.inputs.template as { serviceAccount: string };
        assert.strictEqual(template.serviceAccount, email);
        assert.doesNotMatch(template.serviceAccount, /-compute@developer\.gserviceaccount\.com$/);
        const grants = run.mocks.resources.filter((r) => /Iam(Member|Binding|Policy)/.test(r.type) && String(r.inputs.member).includes(email));
        assert.deepStrictEqual(grants.map((g) => [g.type, g.inputs.role, g.inputs.secretId]), [["gcp:secretmanager/secretIamMember:SecretIamMember", "roles/secretmanager.secretAccessor", "onedigest-test-secret-key"]]);
    });

    it("is public through invokerIamDisabled, with no allUsers binding (domain-restricted sharing refuses one)", () => {
        assert.strictEqual(service.inputs.invokerIamDisabled, true);
        assert.deepStrictEqual(run.mocks.resources.filter((r) => /Iam(Member|Binding|Policy)/.test(r.type) && /allUsers|allAuthenticatedUsers/.test(JSON.stringify(r.inputs))), []);
    });

    it("enables the APIs it needs, Cloud Resource Manager first, keeps them on destroy, and waits until they answer", () => {
        const apis = run.ofType("gcp:projects/service:Service");
        assert.deepStrictEqual(apis.map((a) => a.inputs.service).sort(), ["artifactregistry.googleapis.com", "cloudresourcemanager.googleapis.com", "iam.googleapis.com", "monitoring.googleapis.com", "run.googleapis.com", "secretmanager.googleapis.com"]);
        for (const api of apis) assert.strictEqual(api.inputs.disableOnDestroy, false);
        const deps = run.mocks.dependencies;
        const api = (s: string) => apis.find((a) => a.inputs.service === s)!.name;
        // The Google provider reads the project through Cloud Resource Manager when it enables any API.
        for (const other of apis.filter((a) => a.inputs.service !== "cloudresourcemanager.googleapis.com")) assert.deepStrictEqual(deps.get(other.name), [api("cloudresourcemanager.googleapis.com")], other.name);
        const [ready] = run.ofType("pulumi-nodejs:dynamic/gcp:ApisReady");
        assert.deepStrictEqual(deps.get(ready.name)?.sort(), apis.map((a) => a.name).sort());
        const plain = reveal(ready.inputs) as Record<string, unknown>;
        assert.deepStrictEqual([plain.project, plain.region, plain.services, plain.endpoints, plain.accessToken], ["onedigest-test", "europe-west1", [...REQUIRED_APIS], {}, "ya29.short-lived-token"]);
        assert.ok(isSecret(ready.inputs.accessToken), "the token is a secret input");
        for (const r of [service, ...run.ofType("gcp:artifactregistry/repository:Repository"), ...run.ofType("gcp:secretmanager/secret:Secret"), ...run.ofType("gcp:serviceaccount/account:Account")]) {
            assert.ok(deps.get(r.name)!.includes(ready.name), `${r.name} does not wait for the APIs to answer`);
        }
    });

    it("polls each API where the Google provider's custom endpoint points, when one is set", async () => {
        const custom = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, "gcp:cloudRunV2CustomEndpoint": "https://run.example.test/v2/" });
        const [ready] = custom.ofType("pulumi-nodejs:dynamic/gcp:ApisReady");
        assert.deepStrictEqual(ready.inputs.endpoints, { "run.googleapis.com": "https://run.example.test/v2/" });
    });

    it("has no public binding when cloudrun.public is false", async () => {
        const priv = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, cloudrun: { public: false, ingress: "internal" } });
        assert.strictEqual(priv.ofType("gcp:cloudrunv2/serviceIamMember:ServiceIamMember").length, 0);
        assert.strictEqual(priv.ofType("gcp:cloudrunv2/service:Service")[0].inputs.invokerIamDisabled, false);
        assert.strictEqual(priv.ofType("gcp:cloudrunv2/service:Service")[0].inputs.ingress, "INGRESS_TRAFFIC_INTERNAL_ONLY");
    });

    it("turns deletion protection on by default for prod stacks", async () => {
        const prod = await runProgram({ targets: ["gcp-cloudrun"], ...GCP }, { stack: "prod" });
        assert.strictEqual(prod.ofType("gcp:cloudrunv2/service:Service")[0].inputs.deletionProtection, true);
    });

    it("lets gunicorn finish inside Cloud Run's SIGTERM window", () => {
        assert.ok(GRACEFUL_TIMEOUT_SECONDS < CLOUD_RUN_KILL_SECONDS);
    });
});

describe("gcp-cloudrun: bad input, exact messages, nothing registered", () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
        [
            "min > max instances",
            { cloudrun: { minInstances: 5, maxInstances: 2 } },
            "onedigest:cloudrun.minInstances: got 5; expected at most maxInstances (2). Fix: pulumi config set --path onedigest:cloudrun.minInstances 2",
        ],
        [
            "memory outside Cloud Run's values",
            { cloudrun: { memory: "3Gi" } },
            "onedigest:cloudrun.memory: got \"3Gi\"; expected one of 512Mi, 1Gi, 2Gi, 4Gi, 8Gi, 16Gi, 24Gi, 32Gi. Fix: pulumi config set --path onedigest:cloudrun.memory 512Mi",
        ],
        [
            "cpu outside Cloud Run's values",
            { cloudrun: { cpu: "3" } },
            "onedigest:cloudrun.cpu: got \"3\"; expected one of 1, 2, 4, 6, 8. Fix: pulumi config set --path --type string onedigest:cloudrun.cpu 1",
        ],
        [
            "memory too large for the cpu",
            { cloudrun: { cpu: "1", memory: "8Gi" } },
            "onedigest:cloudrun.memory: got \"8Gi\"; expected with cpu 1, one of 512Mi, 1Gi, 2Gi, 4Gi. Fix: pulumi config set --path onedigest:cloudrun.memory 512Mi",
        ],
        [
            // What `pulumi config set --path onedigest:cloudrun.cpu 3` stores: a number.
            "cpu given as a number Cloud Run does not have",
            { cloudrun: { cpu: 3 } },
            "onedigest:cloudrun.cpu: got 3; expected one of 1, 2, 4, 6, 8. Fix: pulumi config set --path --type string onedigest:cloudrun.cpu 1",
        ],
    ];
    for (const [what, config, message] of cases) {
        it(what, async () => {
            const result = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, ...config });
            assert.strictEqual(result.message, message);
            assert.deepStrictEqual(result.resources, []);
        });
    }

    it("missing gcp:project", async () => {
        const result = await runProgramError({ targets: ["gcp-cloudrun"], "gcp:region": "europe-west1" });
        assert.strictEqual(result.message, "gcp:project: got (not set); expected the Google Cloud project ID to deploy into. Fix: pulumi config set gcp:project my-project-id");
        assert.deepStrictEqual(result.resources, []);
    });

    it("missing region", () => {
        assert.strictEqual(
            configError({ targets: ["gcp-cloudrun"] }, { providerConfig: (ns, key) => (ns === "gcp" && key === "project" ? "p" : undefined) }),
            "onedigest:cloudrun.region: got (not set); expected a Cloud Run region (or set gcp:region). Fix: pulumi config set --path onedigest:cloudrun.region europe-west1",
        );
    });
});

describe("gcp-cloudrun: concurrency follows what the app serves at once", () => {
    const concurrencyOf = async (config: Record<string, unknown>): Promise<number> => {
        const run = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, ...config });
        const [service] = run.ofType("gcp:cloudrunv2/service:Service");
        return (service.inputs.template as { maxInstanceRequestConcurrency: number }).maxInstanceRequestConcurrency;
    };

    it("by CPU, by the app's own WEB_CONCURRENCY and GUNICORN_THREADS, and as set", async () => {
        assert.strictEqual(await concurrencyOf({ cloudrun: { cpu: "2", memory: "1Gi" } }), 16);
        assert.strictEqual(await concurrencyOf({ cloudrun: { cpu: "8", memory: "4Gi" } }), 32);
        assert.strictEqual(await concurrencyOf({ app: { env: { WEB_CONCURRENCY: "3", GUNICORN_THREADS: "2" } } }), 6);
        assert.strictEqual(await concurrencyOf({ cloudrun: { concurrency: 40 } }), 40);
    });

    it("is what app/gunicorn.conf.py starts: workers × threads for that many CPUs", () => {
        // The project's venv (scripts/test.sh makes it); mutation testing runs in a copy without it and names it.
        const python = process.env.ONEDIGEST_PYTHON ?? path.join(ROOT, ".venv", "bin", "python");
        assert.ok(fs.existsSync(python), `no ${python}: scripts/test.sh makes the venv before the program's tests`);
        // The settings module as gunicorn loads it, on a machine of `cpus` CPUs without a cgroup quota.
        const load = (cpus: number, env: Record<string, string> = {}): number => {
            const code = [
                "import builtins, os, runpy, sys",
                "real_open = builtins.open",
                "builtins.open = lambda p, *a, **k: (_ for _ in ()).throw(OSError(p)) if str(p).startswith('/sys/fs/cgroup') else real_open(p, *a, **k)",
                `os.sched_getaffinity = lambda pid: set(range(${cpus}))`,
                "conf = runpy.run_path(sys.argv[1])",
                "print(conf['workers'] * conf['threads'])",
            ].join("\n");
            const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !["WEB_CONCURRENCY", "GUNICORN_THREADS"].includes(k)));
            return Number(execFileSync(python, ["-c", code, path.join(ROOT, "app", "gunicorn.conf.py")], { cwd: path.join(ROOT, "app"), env: { ...clean, PROMETHEUS_MULTIPROC_DIR: "/nonexistent", ...env }, encoding: "utf8" }).trim());
        };
        for (const cpus of [1, 2, 4, 6, 8]) assert.strictEqual(requestsInFlight(cpus), load(cpus), `${cpus} CPUs`);
        assert.strictEqual(requestsInFlight(1, { WEB_CONCURRENCY: "3", GUNICORN_THREADS: "5" }), load(1, { WEB_CONCURRENCY: "3", GUNICORN_THREADS: "5" }));
    });
});
