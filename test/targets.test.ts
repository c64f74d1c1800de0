/** The shared target contract, for every kind, and the image identity across all of them. */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { TARGET_KINDS, type TargetKind } from "../providers";
import { beforeProgram, plainStrings, strings } from "./helpers";
import { PUSH, isAppContainer, bundleFiles, hex, reveal, ROOT, runProgram, TEST_SECRET, type ProgramRun, type Recorded } from "./mocks";

const CLOUD_CONFIG = { "aws:region": "eu-west-1", "gcp:project": "onedigest-test", "gcp:region": "europe-west1", herokuApiKey: "heroku-key-for-tests" };
const BUILT_ID = `sha256:${hex("image-config:onedigest-image")}`;
const PINNED = /@sha256:[0-9a-f]{64}$/;

/** The image each container-running resource runs, by type. */
const RUNNERS: Record<string, (r: Recorded) => string[]> = {
    "docker:index/container:Container": (r) => [String(r.inputs.image)],
    "aws:ecs/taskDefinition:TaskDefinition": (r) => (JSON.parse(String(r.inputs.containerDefinitions)) as Array<{ image: string }>).map((c) => c.image),
    "gcp:cloudrunv2/service:Service": (r) => ((r.inputs.template as { containers: Array<{ image: string }> }).containers ?? []).map((c) => c.image),
    "aws:ecs/expressGatewayService:ExpressGatewayService": (r) => [String((r.inputs.primaryContainer as { image: string }).image)],
    "aws:s3/bucketObjectv2:BucketObjectv2": (r) => [(JSON.parse(bundleFiles(r)["Dockerrun.aws.json"]) as { Image: { Name: string } }).Image.Name],
    "pulumi-nodejs:dynamic/heroku:Release": (r) => [String(r.inputs.imageId)],
};

/** A registry reference by tag (not digest) to one of the target registries. */
const TAGGED_REF = /(dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com|docker\.pkg\.dev|registry\.heroku\.com)\/[^\s"@]*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

describe("targets: the contract, for every kind", () => {
    for (const kind of TARGET_KINDS) {
        describe(kind, () => {
            let run: ProgramRun;
            beforeProgram(async () => {
                run = await runProgram({ targets: [kind], ...CLOUD_CONFIG });
            });

            it("exports url, image pinned by digest, and the built image's ID", () => {
                const d = (run.outputs.deployments as Record<TargetKind, { url: string; image: string; imageId: string }>)[kind];
                assert.match(d.url, /^https?:\/\/[a-z0-9.-]+(:\d+)?$/);
                assert.strictEqual(run.outputs.url, d.url);
                assert.strictEqual(d.imageId, BUILT_ID);
                assert.strictEqual(run.outputs.imageId, BUILT_ID);
                if (kind === "local") assert.strictEqual(d.image, BUILT_ID);
                else assert.match(d.image, PINNED);
            });

            it("runs the image by ID or digest in every container-running resource", () => {
                // The local target's Prometheus runs its own pinned image (localPrometheus.test.ts).
                const runners = run.mocks.resources.filter((r) => r.type in RUNNERS && !r.name.endsWith("-prometheus"));
                assert.ok(runners.length >= 1, "no container-running resource recorded");
                for (const r of runners) {
                    for (const ref of RUNNERS[r.type](r)) {
                        assert.ok(PINNED.test(ref) || ref === BUILT_ID, `${r.type} ${r.name} runs ${ref}, not a digest or the image ID`);
                    }
                }
            });

            it("never references a target registry by tag outside the push itself", () => {
                for (const r of run.mocks.resources) {
                    if (r.type === "docker:index/tag:Tag" || r.type === "docker:index/registryImage:RegistryImage") continue;
                    for (const s of strings(reveal(r.inputs))) assert.ok(!TAGGED_REF.test(s), `${r.type} ${r.name} names ${s}`);
                }
            });

            it("wires the health check to /healthcheck", () => {
                const text = JSON.stringify(run.mocks.resources.map((r) => r.inputs));
                if (kind === "local") {
                    // The image's own HEALTHCHECK probes /healthcheck; the container update waits for it.
                    assert.match(fs.readFileSync(path.join(ROOT, "app", "Dockerfile"), "utf8"), /^HEALTHCHECK [\s\S]*\/healthcheck/m);
                    assert.strictEqual(run.ofType("docker:index/container:Container").filter(isAppContainer)[0].inputs.wait, true);
                } else if (kind === "heroku") {
                    // Heroku has no probe setting: the release waits for Heroku to report it succeeded.
                    assert.ok(Number(run.ofType("pulumi-nodejs:dynamic/heroku:Release")[0].inputs.timeoutSeconds) > 0);
                } else {
                    assert.ok(text.includes("/healthcheck"), `${kind} has no /healthcheck probe`);
                }
            });

            it("keeps SECRET_KEY out of plain inputs and outputs", () => {
                assert.ok(!JSON.stringify(run.outputs).includes(TEST_SECRET));
                for (const r of run.mocks.resources) {
                    // Secret inputs are recorded inside a secret wrapper; only a plain copy counts.
                    assert.ok(!plainStrings(r.inputs).some((s) => s.includes(TEST_SECRET)), `${r.type} ${r.name} holds SECRET_KEY in plain`);
                }
            });
        });
    }
});

describe("targets: build once, push per registry", () => {
    it("registers one docker.Image for every target, and each push sources it", async () => {
        const run = await runProgram({ targets: [...TARGET_KINDS], ...CLOUD_CONFIG });
        const images = run.ofType("docker:index/image:Image");
        assert.strictEqual(images.length, 1);
        const pushes = run.ofType(PUSH);
        // ECR (shared by ECS, Beanstalk and ECS Express), Artifact Registry, Heroku: three registries, three pushes.
        assert.strictEqual(pushes.length, 3);
        for (const push of pushes) assert.deepStrictEqual([push.inputs.source, push.inputs.imageId], [BUILT_ID, BUILT_ID]);
        const ids = Object.values(run.outputs.deployments as Record<string, { imageId: string }>).map((d) => d.imageId);
        assert.deepStrictEqual(new Set(ids), new Set([BUILT_ID]));
    });

    it("gcp-cloudrun plus aws-ecs: one image, two pushes of it", async () => {
        const run = await runProgram({ targets: ["gcp-cloudrun", "aws-ecs"], ...CLOUD_CONFIG });
        assert.strictEqual(run.ofType("docker:index/image:Image").length, 1);
        const pushes = run.ofType(PUSH);
        assert.deepStrictEqual(
            pushes.map((p) => [p.inputs.source, p.inputs.tag]),
            [
                [BUILT_ID, BUILT_ID.replace(":", "-")],
                [BUILT_ID, BUILT_ID.replace(":", "-")],
            ],
        );
    });
});
