/**
 * The delivery workflows under .github/workflows, parsed: the rules they promise (pinned actions,
 * least permissions, one concurrency group per stack that never cancels an up, nothing from event
 * data inside a script, no secret printed) and the job graph (test → dev → prod; prod behind the
 * `production` environment, building nothing). actionlint, zizmor and GitHub's schema check the
 * same files in scripts/check-workflows.sh.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { parse as parseYaml } from "yaml";

import { ROOT } from "./mocks";

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    "working-directory"?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    if?: string;
}
interface Job {
    needs?: string | string[];
    environment?: string | { name: string };
    permissions?: Record<string, string>;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    env?: Record<string, string>;
    steps?: Step[];
    if?: string;
}
interface Workflow {
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    jobs: Record<string, Job>;
}

const DIR = path.join(ROOT, ".github", "workflows");
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml"));
const text = (file: string) => fs.readFileSync(path.join(DIR, file), "utf8");
const workflow = (file: string) => parseYaml(text(file)) as Workflow;
const allJobs = files.flatMap((file) => Object.entries(workflow(file).jobs).map(([name, job]) => ({ file, name, job })));
const needs = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);
const usesOf = (job: Job) => (job.steps ?? []).map((s) => s.uses ?? "").filter(Boolean);
const runsOf = (job: Job) => (job.steps ?? []).map((s) => s.run ?? "").filter(Boolean);

describe("workflows: the safety rules", () => {
    it("ships the four workflows", () => {
        assert.deepStrictEqual(files.sort(), ["deploy.yml", "preview.yml", "rollback.yml", "test.yml"]);
    });

    it("pins every third-party action by full commit SHA, with its version in a comment", () => {
        for (const file of files) {
            for (const line of text(file).split("\n").filter((l) => /^\s*-?\s*uses:/.test(l))) {
                assert.match(line, /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/, `${file}: ${line.trim()}`);
            }
        }
    });

    it("reads only the repository at the top; id-token and pull-requests write only where a job needs them", () => {
        for (const file of files) assert.deepStrictEqual(workflow(file).permissions, { contents: "read" }, file);
        for (const { file, name, job } of allJobs) {
            const uses = usesOf(job);
            const cloudLogin = uses.some((u) => u.startsWith("aws-actions/configure-aws-credentials@") || u.startsWith("google-github-actions/auth@"));
            const comments = (job.steps ?? []).some((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.["comment-on-pr"] === true);
            assert.strictEqual(job.permissions?.["id-token"] === "write", cloudLogin, `${file} ${name}: id-token: write exactly when it logs in to a cloud`);
            assert.strictEqual(job.permissions?.["pull-requests"] === "write", comments, `${file} ${name}: pull-requests: write exactly when it comments`);
            for (const [scope, level] of Object.entries(job.permissions ?? {})) {
                assert.ok(["contents:read", "id-token:write", "pull-requests:write"].includes(`${scope}:${level}`), `${file} ${name}: ${scope}: ${level}`);
            }
        }
    });

    it("gives every job that runs `pulumi up` its stack's concurrency group, which never cancels", () => {
        const ups = allJobs.filter(({ job }) => runsOf(job).some((r) => /pulumi up /.test(r)));
        assert.deepStrictEqual(ups.map(({ file, name }) => `${file} ${name}`).sort(), ["deploy.yml dev", "deploy.yml prod", "rollback.yml rollback"]);
        for (const { file, name, job } of ups) {
            assert.strictEqual(job.concurrency?.["cancel-in-progress"], false, `${file} ${name}`);
            assert.match(job.concurrency?.group ?? "", /^pulumi-(dev|prod|\$\{\{ inputs\.stack \}\})$/, `${file} ${name}`);
        }
        assert.strictEqual(workflow("deploy.yml").jobs.dev.concurrency?.group, "pulumi-dev");
        assert.strictEqual(workflow("deploy.yml").jobs.prod.concurrency?.group, "pulumi-prod");
    });

    it("puts no ${{ }} expression inside a script: event data reaches scripts through env", () => {
        for (const { file, name, job } of allJobs) for (const run of runsOf(job)) assert.ok(!run.includes("${{"), `${file} ${name}: ${run}`);
    });

    it("never prints a secret: scripts do not name the variables that hold one", () => {
        for (const { file, name, job } of allJobs) {
            const secretVars = Object.entries({ ...job.env }).filter(([, v]) => /secrets\./.test(v)).map(([k]) => k);
            for (const run of runsOf(job)) for (const v of secretVars) assert.ok(!run.includes(v), `${file} ${name}: a script names ${v}`);
        }
    });

    it("never checks out with persisted credentials, and never runs on pull_request_target", () => {
        for (const { file, name, job } of allJobs) {
            for (const step of (job.steps ?? []).filter((s) => s.uses?.startsWith("actions/checkout@"))) assert.strictEqual(step.with?.["persist-credentials"], false, `${file} ${name}`);
        }
        for (const file of files) assert.ok(!("pull_request_target" in workflow(file).on), file);
    });
});

describe("workflows: the policy pack holds every preview and up", () => {
    /** Every step that previews or updates a stack: a `pulumi preview|up` script, or pulumi/actions with that command. */
    const pulumiSteps = allJobs.flatMap(({ file, name, job }) =>
        (job.steps ?? []).flatMap((step, index) => {
            const runs = /\bpulumi (preview|up)\b/.test(step.run ?? "");
            const action = step.uses?.startsWith("pulumi/actions@") && ["preview", "up", "update"].includes(String(step.with?.command ?? ""));
            return runs || action ? [{ file, name, job, step, index }] : [];
        }),
    );

    it("finds the previews and ups of preview.yml, deploy.yml and rollback.yml", () => {
        assert.deepStrictEqual(pulumiSteps.map(({ file, name }) => `${file} ${name}`).sort(), ["deploy.yml dev", "deploy.yml prod", "preview.yml preview", "rollback.yml rollback"]);
    });

    it("runs each with --policy-pack policy (policyPacks: policy for pulumi/actions)", () => {
        for (const { file, name, step } of pulumiSteps) {
            if (step.run !== undefined) {
                for (const line of step.run.split("\n").filter((l) => /\bpulumi (preview|up)\b/.test(l))) assert.match(line, /--policy-pack policy(\s|$)/, `${file} ${name}: ${line.trim()}`);
            } else {
                assert.deepStrictEqual(String(step.with?.policyPacks ?? "").split("\n").filter(Boolean), ["policy"], `${file} ${name}: pulumi/actions ${String(step.with?.command)} without policyPacks: policy`);
            }
        }
    });

    it("installs the pack's dependencies (npm ci in policy/) earlier in the same job", () => {
        for (const { file, name, job, index } of pulumiSteps) {
            const install = (job.steps ?? []).findIndex((s) => s["working-directory"] === "policy" && /^npm ci\b/.test(s.run ?? ""));
            assert.ok(install >= 0 && install < index, `${file} ${name}: no npm ci in policy/ before the step that runs the pack`);
        }
    });

    it("and the pack it names is there: policy/PulumiPolicy.yaml, a locked package.json", () => {
        for (const file of ["PulumiPolicy.yaml", "package.json", "package-lock.json"]) assert.ok(fs.existsSync(path.join(ROOT, "policy", file)), `policy/${file}`);
    });
});

describe("workflows: what runs when", () => {
    it("test: the README's test command on every pull request and push", () => {
        const w = workflow("test.yml");
        assert.ok("pull_request" in w.on && "push" in w.on);
        assert.ok(runsOf(w.jobs.test).some((r) => r.includes("bash scripts/test.sh")));
        assert.ok(fs.readFileSync(path.join(ROOT, "README.md"), "utf8").includes("bash scripts/test.sh"));
        // On main the deploy workflow runs the very same job first.
        assert.deepStrictEqual(workflow("deploy.yml").jobs.test, w.jobs.test);
    });

    it("test: a scan job where the advisory databases are: pip-audit on every hash-pinned requirements file, npm audit, Trivy on the built image", () => {
        const scan = workflow("test.yml").jobs.scan;
        const script = runsOf(scan).join("\n");
        const audit = script.match(/for file in ([^;]+); do[\s\S]*?pip-audit"? --strict --require-hashes --disable-pip [^\n]*-r "\$file"/);
        assert.ok(audit, "pip-audit --strict over a list of files");
        assert.match(script, /pip"? install -q --require-hashes -r checks\/requirements-audit\.txt/);
        const listed = audit[1].trim().split(/\s+/);
        const covered = (file: string) => listed.some((p) => new RegExp(`^${p.replace(/[.]/g, "\\.").replace(/\*/g, "[^/]*")}$`).test(file));
        for (const dir of ["app", "checks"]) {
            for (const file of fs.readdirSync(path.join(ROOT, dir)).filter((f) => /^requirements.*\.txt$/.test(f))) assert.ok(covered(`${dir}/${file}`), `${dir}/${file} is audited`);
        }
        assert.match(script, /npm audit --omit=dev --audit-level=high\n/);
        assert.match(script, /npm audit --omit=dev --audit-level=high --prefix policy/);
        assert.match(script, /docker build --tag onedigest-scan:ci app/);
        const trivy = scan.steps!.find((s) => s.uses?.startsWith("aquasecurity/trivy-action@"))!;
        assert.deepStrictEqual(trivy.with, { "image-ref": "onedigest-scan:ci", severity: "HIGH,CRITICAL", "ignore-unfixed": true, "exit-code": "1", trivyignores: ".trivyignore" });
        assert.ok(fs.existsSync(path.join(ROOT, ".trivyignore")));
    });

    it("dependabot: pip (app/, checks/), npm (the project, policy/), the actions and the base image", () => {
        const config = parseYaml(fs.readFileSync(path.join(ROOT, ".github", "dependabot.yml"), "utf8")) as { updates: Array<{ "package-ecosystem": string; directory?: string; directories?: string[] }> };
        const where = Object.fromEntries(config.updates.map((u) => [u["package-ecosystem"], u.directories ?? [u.directory]]));
        assert.deepStrictEqual(where, { pip: ["/app", "/checks"], npm: ["/", "/policy"], "github-actions": ["/"], docker: ["/app"] });
    });

    it("deploy: test → dev → prod on pushes to main; prod behind `production`, promoting without a build", () => {
        const w = workflow("deploy.yml");
        assert.deepStrictEqual(w.on, { push: { branches: ["main"] } });
        assert.deepStrictEqual(needs(w.jobs.dev), ["test"]);
        assert.deepStrictEqual(needs(w.jobs.prod), ["dev"]);
        assert.strictEqual(w.jobs.prod.environment, "production");
        const dev = runsOf(w.jobs.dev).join("\n");
        const prod = runsOf(w.jobs.prod).join("\n");
        assert.match(dev, /pulumi up --yes --stack dev[\s\S]*bash scripts\/verify\.sh dev/);
        assert.match(prod, /pulumi up --yes --stack prod[\s\S]*bash scripts\/check-promotion\.sh prod dev[\s\S]*bash scripts\/verify\.sh prod/);
        assert.ok(!/docker build|docker push/.test(prod), "prod builds nothing itself");
    });

    it("deploy: dev's copies signed keyless and attested after its up, the SBOMs kept; every job that deploys or previews has cosign", () => {
        const w = workflow("deploy.yml");
        const steps = w.jobs.dev.steps ?? [];
        const at = (pred: (s: Step) => boolean) => steps.findIndex(pred);
        const up = at((s) => /pulumi up --yes --stack dev/.test(s.run ?? ""));
        const sign = at((s) => s.run === "bash scripts/sign-stack.sh dev sbom");
        const keep = at((s) => s.uses?.startsWith("actions/upload-artifact@") === true);
        assert.ok(up >= 0 && sign > up && keep > sign, "sign after the up, keep the SBOMs after signing");
        assert.deepStrictEqual(steps[keep].with, { name: "sbom-dev", path: "sbom/", "if-no-files-found": "error" });
        // Keyless needs the job's OIDC token; no key is handed to the job.
        assert.strictEqual(w.jobs.dev.permissions?.["id-token"], "write");
        assert.ok(!/COSIGN_(PRIVATE_)?KEY|--key/.test(runsOf(w.jobs.dev).join("\n")));
        assert.ok(!runsOf(w.jobs.prod).some((r) => r.includes("sign-stack.sh")), "prod signs nothing: it deploys what dev signed");
        const cosignVersion = (job: Job) => (job.steps ?? []).find((s) => s.uses?.startsWith("sigstore/cosign-installer@"))?.with?.["cosign-release"];
        for (const [file, job] of [["deploy.yml", "dev"], ["deploy.yml", "prod"], ["rollback.yml", "rollback"], ["preview.yml", "preview"]] as const) {
            assert.strictEqual(cosignVersion(workflow(file).jobs[job]), "v2.6.1", `${file} ${job}`);
        }
        assert.match(fs.readFileSync(path.join(ROOT, "scripts", "test.sh"), "utf8"), /cosign\/v2\/cmd\/cosign@v2\.6\.1/, "the suite and the workflows run one cosign version");
    });

    it("preview: dev and prod on pull requests, the diff as a comment; forks are told why they get none", () => {
        const w = workflow("preview.yml");
        assert.deepStrictEqual(Object.keys(w.on), ["pull_request"]);
        const preview = w.jobs.preview;
        assert.match(preview.if ?? "", /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
        assert.deepStrictEqual((preview as unknown as { strategy: { matrix: { stack: string[] } } }).strategy.matrix.stack, ["dev", "prod"]);
        const step = preview.steps!.find((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "preview")!;
        assert.strictEqual(step.with?.["comment-on-pr"], true);
        assert.match(w.jobs.fork.if ?? "", /!= github\.repository/);
        assert.match(runsOf(w.jobs.fork).join(""), /forks get no secrets/);
    });

    it("rollback: by hand, a stack and a repo@sha256 reference checked before anything runs", () => {
        const w = workflow("rollback.yml");
        const inputs = (w.on.workflow_dispatch as { inputs: Record<string, { options?: string[] }> }).inputs;
        assert.deepStrictEqual(Object.keys(inputs), ["stack", "ref"]);
        assert.deepStrictEqual(inputs.stack.options, ["dev", "prod"]);
        const job = w.jobs.rollback;
        assert.strictEqual(job.env?.REF, "${{ inputs.ref }}");
        assert.match(job.steps![0].run ?? "", /@sha256:\[0-9a-f\]\{64\}/, "the reference is checked first");
        const runs = runsOf(job).join("\n");
        assert.match(runs, /pulumi config set --path onedigest:image\.ref "\$REF"[\s\S]*pulumi up --yes --stack "\$STACK"[\s\S]*verify\.sh "\$STACK" --any-commit --any-version/);
    });
});

describe("the checks the suite runs offline", () => {
    const testSh = fs.readFileSync(path.join(ROOT, "scripts", "test.sh"), "utf8");

    it("test.sh has a sast stage (scripts/sast.sh) and a pre-commit stage, counted", () => {
        assert.match(testSh, /^sast\(\) \{ tools_ready && bash scripts\/sast\.sh; \}\nstage sast sast; count_checkers sast sast$/m);
        assert.match(testSh, /"\$venv\/bin\/pre-commit" run --all-files/);
        assert.match(testSh, /^if stage pre-commit pre_commit; then passed=\$\(\(passed \+ 1\)\); else failed=\$\(\(failed \+ 1\)\); fi$/m);
    });

    it(".pre-commit-config.yaml: local hooks only, ruff, the type-check, hadolint and actionlint", () => {
        const config = parseYaml(fs.readFileSync(path.join(ROOT, ".pre-commit-config.yaml"), "utf8")) as { repos: Array<{ repo: string; hooks: Array<{ id: string }> }> };
        assert.deepStrictEqual(config.repos.map((r) => r.repo), ["local"]);
        assert.deepStrictEqual(config.repos[0].hooks.map((h) => h.id), ["ruff", "typecheck", "hadolint", "actionlint"]);
    });

    it("DAST runs against the container the real-engine stage deploys, through its published port", () => {
        const deployLocal = fs.readFileSync(path.join(ROOT, "test", "engine", "deployLocal.test.ts"), "utf8");
        assert.match(deployLocal, /run\("bash", \["scripts\/dast\.sh", `http:\/\/127\.0\.0\.1:\$\{LOCAL_PORT\}\/`\]/);
    });

    it("every finding accepted has a reason, and only the tools the gate knows", () => {
        const lines = fs.readFileSync(path.join(ROOT, "checks", "accepted-findings.txt"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
        assert.ok(lines.length > 0);
        for (const line of lines) assert.match(line, /^(bandit|semgrep|hadolint|checkov|wapiti) \S+ \S+ \S.{20,}$/, line);
    });
});
