/** The shipped stack files, loaded as the engine would hand them to the program. */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { parse as parseYaml } from "yaml";

import { hex, invokeError, registryRef, runProgram, runProgramError, stackFileConfig, type ProgramRun } from "./mocks";

const SECRETS = { "onedigest:secretKey": "stack-test-secret", "onedigest:herokuApiKey": "stack-test-heroku-key" };
/** What only the stack's owner can know (README: Before the first `pulumi up`). */
const OWNER = {
    dev: { "gcp:project": "my-dev-project" },
    prod: {
        "gcp:project": "my-prod-project",
        "onedigest:ecs": { certificateArn: "arn:aws:acm:eu-west-1:210987654321:certificate/11111111-2222-3333-4444-555555555555", domain: "app.example.org" },
    },
};

/** A stack file with `extra` merged in (objects field by field, as `pulumi config set --path` would). */
function withValues(stack: string, extra: Record<string, unknown>): Record<string, unknown> {
    const config = stackFileConfig(stack);
    for (const [key, value] of Object.entries(extra)) {
        const old = config[key];
        config[key] = typeof value === "object" && typeof old === "object" && old !== null ? { ...old, ...value } : value;
    }
    return config;
}

async function runStack(stack: "local" | "dev" | "prod", options: Parameters<typeof runProgram>[1] = {}): Promise<ProgramRun> {
    // The local stack is the project's defaults: no stack file is shipped for it.
    if (stack === "local") return runProgram({ ...SECRETS }, { stack, ...options });
    return runProgram({ ...withValues(stack, OWNER[stack]), ...SECRETS }, { stack, ...options });
}

const DEV_ID = `sha256:${hex("dev-build")}`;
const DEV_REPOSITORY = "europe-west1-docker.pkg.dev/my-dev-project/onedigest-dev/onedigest";
const DEV_REF = registryRef(DEV_REPOSITORY, DEV_ID);
/** The dev stack as prod's bare `promoteFrom: dev` resolves it (this organization and project). */
const DEV_STACK = "organization/onedigest/dev";

describe("stack files", () => {
    it("local: deploys to local Docker only, from a build", async () => {
        const run = await runStack("local");
        assert.deepStrictEqual(Object.keys(run.outputs.deployments as object), ["local"]);
        assert.strictEqual(run.ofType("docker:index/image:Image").length, 1);
        assert.strictEqual(run.outputs.url, "http://localhost:8080");
        assert.strictEqual(run.mocks.resources.filter((r) => /^(aws|gcp):/.test(r.type)).length, 0, "local needs no cloud account");
    });

    it("dev: Cloud Run scaled to zero and a Heroku basic dyno", async () => {
        const run = await runStack("dev");
        assert.deepStrictEqual(Object.keys(run.outputs.deployments as object), ["gcp-cloudrun", "heroku"]);
        const [service] = run.ofType("gcp:cloudrunv2/service:Service");
        assert.strictEqual((service.inputs.template as { scaling: { minInstanceCount: number } }).scaling.minInstanceCount, 0);
        assert.strictEqual(service.inputs.project, "my-dev-project");
        const [release] = run.ofType("pulumi-nodejs:dynamic/heroku:Release");
        assert.strictEqual(release.inputs.size, "basic");
        const [app] = run.ofType("pulumi-nodejs:dynamic/heroku:App");
        assert.match(String(app.inputs.name), /^onedigest-dev-[0-9a-f]{6}$/, "a per-stack Heroku app name nobody else is likely to hold");
        assert.strictEqual(run.ofType("docker:index/image:Image").length, 1);
    });

    it("prod: ECS + Cloud Run, promoted from this project's dev stack without a build", async () => {
        const run = await runStack("prod", {
            stacks: { [DEV_STACK]: { imageId: DEV_ID, deployments: { "gcp-cloudrun": { url: "https://dev", image: DEV_REF, imageId: DEV_ID } } } },
            pulledIds: { [DEV_REF]: DEV_ID },
        });
        const deployments = run.outputs.deployments as Record<string, { imageId: string; url: string }>;
        assert.deepStrictEqual(Object.keys(deployments), ["aws-ecs", "gcp-cloudrun"]);
        assert.strictEqual(run.ofType("docker:index/image:Image").length, 0);
        assert.deepStrictEqual(run.ofType("pulumi:pulumi:StackReference").map((r) => r.name), [DEV_STACK]);
        assert.strictEqual(run.outputs.imageId, DEV_ID);
        for (const d of Object.values(deployments)) assert.strictEqual(d.imageId, DEV_ID);
        assert.strictEqual(deployments["aws-ecs"].url, "https://app.example.org");
        const [task] = run.ofType("aws:ecs/taskDefinition:TaskDefinition");
        assert.deepStrictEqual([task.inputs.cpu, task.inputs.memory], ["512", "1024"]);
        assert.strictEqual(run.ofType("gcp:cloudrunv2/service:Service")[0].inputs.deletionProtection, true);
    });

    it("prod: refuses a promotion whose registry image differs from the exported imageId", async () => {
        const other = registryRef(DEV_REPOSITORY, `sha256:${hex("something-else")}`);
        await assert.rejects(
            runStack("prod", { stacks: { [DEV_STACK]: { imageId: DEV_ID, deployments: { "gcp-cloudrun": { image: other } } } } }),
            /promotion refused: organization\/onedigest\/dev exports imageId sha256:[0-9a-f]{64} but its image \S+ has config digest sha256:[0-9a-f]{64}/,
        );
    });
});

describe("stack files name nothing only one owner can use", () => {
    it("dev with only its secrets set: the Google Cloud project, and nothing else", async () => {
        const { message, resources } = await runProgramError({ ...stackFileConfig("dev"), ...SECRETS }, { stack: "dev" });
        assert.strictEqual(message, "gcp:project: got (not set); expected the Google Cloud project ID to deploy into. Fix: pulumi config set gcp:project my-project-id");
        assert.deepStrictEqual(resources, []);
    });

    it("prod with only its secrets set: every owner-specific value, all at once", async () => {
        const { message, resources } = await runProgramError({ ...stackFileConfig("prod"), ...SECRETS }, { stack: "prod" });
        assert.strictEqual(
            message,
            [
                "3 configuration problems:",
                "onedigest:ecs.certificateArn: got (not set); expected an ACM certificate for the load balancer's HTTPS listener (onedigest:app.env.FORCE_HTTPS is 1, so the app redirects every request to HTTPS). Fix: pulumi config set --path onedigest:ecs.certificateArn 'arn:aws:acm:<region>:<account>:certificate/<uuid>'",
                "onedigest:ecs.domain: got (not set); expected the domain the load balancer's certificate was issued for (its own DNS name is not on one); point its DNS at the load balancer. Fix: pulumi config set --path onedigest:ecs.domain app.example.com",
                "gcp:project: got (not set); expected the Google Cloud project ID to deploy into. Fix: pulumi config set gcp:project my-project-id",
            ].join("\n"),
        );
        assert.deepStrictEqual(resources, []);
    });

    it("holds no project ID, Heroku app name, organization, account or domain", () => {
        for (const stack of ["dev", "prod"]) {
            const text = JSON.stringify(stackFileConfig(stack));
            assert.doesNotMatch(text, /gcp:project|appName|certificateArn|domain|\d{12}|\//, `Pulumi.${stack}.yaml names something of one owner`);
        }
    });
});

describe("stack files: the local stack", () => {
    it("is the project's defaults, so its config file is this machine's and git ignores it", () => {
        const root = path.resolve(__dirname, "..");
        assert.strictEqual(execFileSync("git", ["ls-files", "Pulumi.local.yaml"], { cwd: root, encoding: "utf8" }), "", "Pulumi.local.yaml is tracked");
        // Not tracked and ignored: Pulumi writing its encryption salt there leaves the tree clean.
        assert.strictEqual(execFileSync("git", ["check-ignore", "--no-index", "Pulumi.local.yaml"], { cwd: root, encoding: "utf8" }).trim(), "Pulumi.local.yaml");
        const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { config: Record<string, { default?: unknown }> };
        assert.deepStrictEqual(project.config.targets.default, ["local"]);
        assert.strictEqual((project.config.local.default as { port: number }).port, 8080);
    });
});

describe("stack files: prod after a destroy adopts what the destroy left", () => {
    const retained = {
        "aws:ecr/getRepository:getRepository": (inputs: Record<string, unknown>) => ({ name: inputs.name, repositoryUrl: `210987654321.dkr.ecr.eu-west-1.amazonaws.com/${String(inputs.name)}` }),
        "aws:secretsmanager/getSecret:getSecret": (inputs: Record<string, unknown>) => ({ name: inputs.name, arn: `arn:aws:secretsmanager:eu-west-1:210987654321:secret:${String(inputs.name)}-AbCdEf` }),
        "gcp:artifactregistry/getRepository:getRepository": (inputs: Record<string, unknown>) => ({ name: `projects/${String(inputs.project)}/locations/${String(inputs.location)}/repositories/${String(inputs.repositoryId)}` }),
    };
    const prodStacks = { "organization/onedigest/dev": { imageId: DEV_ID, deployments: { "gcp-cloudrun": { image: DEV_REF } } } };

    it("a fresh account: the registries and the secret are created, and retained on destroy", async () => {
        const run = await runStack("prod", { stacks: prodStacks, pulledIds: { [DEV_REF]: DEV_ID } });
        for (const name of ["onedigest-ecr-repository", "onedigest-secret-key-secret", "onedigest-gcp-cloudrun-repository"]) {
            assert.strictEqual(run.mocks.lifecycle.get(name)?.retainOnDelete, true, name);
            assert.strictEqual(run.mocks.lifecycle.get(name)?.importId, "", name);
        }
        for (const token of Object.keys(retained)) assert.ok(run.mocks.invokes.some((i) => i.token === token), `${token} was not asked`);
    });

    it("found by name, each is imported by the ID its provider imports it by", async () => {
        const run = await runStack("prod", { stacks: prodStacks, pulledIds: { [DEV_REF]: DEV_ID }, invokes: retained });
        assert.strictEqual(run.mocks.lifecycle.get("onedigest-ecr-repository")?.importId, "onedigest-prod");
        assert.strictEqual(run.mocks.lifecycle.get("onedigest-secret-key-secret")?.importId, "arn:aws:secretsmanager:eu-west-1:210987654321:secret:onedigest-prod-secret-key-AbCdEf");
        assert.strictEqual(run.mocks.lifecycle.get("onedigest-gcp-cloudrun-repository")?.importId, "projects/my-prod-project/locations/europe-west1/repositories/onedigest-prod");
    });

    it("outside production nothing is retained, so nothing is looked up or imported", async () => {
        const run = await runStack("dev");
        for (const token of Object.keys(retained)) assert.ok(!run.mocks.invokes.some((i) => i.token === token), token);
        for (const [name, options] of run.mocks.lifecycle) assert.strictEqual(options.importId, "", name);
    });
});

describe("stack files: a lookup that fails for another reason stops prod before any resource", () => {
    it("names the lookup and what the cloud said, instead of creating over a name that may be taken", async () => {
        const prodStacks = { "organization/onedigest/dev": { imageId: DEV_ID, deployments: { "gcp-cloudrun": { image: DEV_REF } } } };
        const denied = {
            "aws:ecr/getRepository:getRepository": () => {
                throw invokeError("reading ECR Repository (onedigest-prod): operation error ECR: DescribeRepositories, AccessDeniedException: not authorized");
            },
        };
        const { message, resources } = await runProgramError({ ...withValues("prod", OWNER.prod), ...SECRETS }, { stack: "prod", stacks: prodStacks, invokes: denied });
        assert.strictEqual(message, "looking up ECR repository onedigest-prod before any resource: reading ECR Repository (onedigest-prod): operation error ECR: DescribeRepositories, AccessDeniedException: not authorized");
        assert.deepStrictEqual(resources.map((r) => r.type), ["pulumi:pulumi:StackReference"]);
    });
});
