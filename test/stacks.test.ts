/** The shipped stack files, loaded as the engine would hand them to the program. */
import * as assert from "assert";

import { hex, runProgram, stackFileConfig, type ProgramRun } from "./mocks";

const SECRETS = { "onedigest:secretKey": "stack-test-secret", "onedigest:herokuApiKey": "stack-test-heroku-key" };

async function runStack(stack: string, options: Parameters<typeof runProgram>[1] = {}): Promise<ProgramRun> {
    return runProgram({ ...stackFileConfig(stack), ...SECRETS }, { stack, ...options });
}

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
        const [release] = run.ofType("pulumi-nodejs:dynamic/heroku:Release");
        assert.strictEqual(release.inputs.size, "basic");
        assert.strictEqual(run.ofType("docker:index/image:Image").length, 1);
    });

    it("prod: ECS + Cloud Run, promoted from dev without a build", async () => {
        const devId = `sha256:${hex("dev-build")}`;
        const devRef = `europe-west1-docker.pkg.dev/onedigest-dev/onedigest/onedigest@sha256:${hex("dev-manifest")}`;
        const run = await runStack("prod", {
            stacks: { "onedigest/onedigest/dev": { imageId: devId, deployments: { "gcp-cloudrun": { url: "https://dev", image: devRef, imageId: devId } } } },
            pulledIds: { [devRef]: devId },
        });
        const deployments = run.outputs.deployments as Record<string, { imageId: string; url: string }>;
        assert.deepStrictEqual(Object.keys(deployments), ["aws-ecs", "gcp-cloudrun"]);
        assert.strictEqual(run.ofType("docker:index/image:Image").length, 0);
        assert.strictEqual(run.outputs.imageId, devId);
        for (const d of Object.values(deployments)) assert.strictEqual(d.imageId, devId);
        assert.strictEqual(deployments["aws-ecs"].url, "https://app.onedigest.example");
        const [task] = run.ofType("aws:ecs/taskDefinition:TaskDefinition");
        assert.deepStrictEqual([task.inputs.cpu, task.inputs.memory], ["512", "1024"]);
        assert.strictEqual(run.ofType("gcp:cloudrunv2/service:Service")[0].inputs.deletionProtection, true);
    });

    it("prod: refuses a promotion whose pulled bits differ from the exported imageId", async () => {
        const devId = `sha256:${hex("dev-build")}`;
        const devRef = `europe-west1-docker.pkg.dev/onedigest-dev/onedigest/onedigest@sha256:${hex("dev-manifest")}`;
        await assert.rejects(
            runStack("prod", {
                stacks: { "onedigest/onedigest/dev": { imageId: devId, deployments: { "gcp-cloudrun": { image: devRef } } } },
                pulledIds: { [devRef]: `sha256:${hex("something-else")}` },
            }),
            /promotion refused: onedigest\/onedigest\/dev exports imageId sha256:[0-9a-f]{64} but its image pulled as sha256:[0-9a-f]{64}/,
        );
    });
});
