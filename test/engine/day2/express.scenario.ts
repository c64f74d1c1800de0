/**
 * An ECS Express stack's lifecycle through the real CLI against the fake clouds: `prod-express`
 * (a production stack, so ECR and the secret outlive a destroy) with the one target
 * `aws-ecs-express`, building its own image: first up, an empty second preview,
 * `scripts/verify.sh`, an app change, a rollback by `image.ref`, and `destroy`. Every check reads the
 * fakes' state (the Express service's revisions, the roles, the secret, the ECR stand-in's push
 * log), not Pulumi's report.
 *
 * As in beanstalk.scenario.ts, the pull of a pinned ECR image logs in through
 * `onedigest:registryAuth` (the stand-in is on 127.0.0.1, which the program does not take for ECR).
 *
 * Run it alone with
 *   npx mocha --no-config -r ts-node/register/transpile-only --node-option no-experimental-strip-types \
 *     --timeout 900000 --exit test/engine/day2/express.scenario.ts
 */
import * as assert from "assert";

import { EXPRESS_INFRASTRUCTURE_POLICY, type ExpressServiceRecord, type Revision } from "../fakes/aws/ecsExpress";
import type { RoleRecord } from "../fakes/aws/iam";
import { Stack, ok, run } from "../cli";
import { withPack } from "../policyPack";
import { World } from "./world";
import { awsRecordOf, currentVersionId, ecrDigest, liveAws, retainedResources, secretRecord, tagOf } from "./awsState";

const SECRET = "day2-express-secret-0123456789abcdef";
const NAME = "onedigest-prod-express";

interface Outputs {
    imageId: string;
    url: string;
    deployments: Record<string, { url: string; image: string; imageId: string }>;
}

describe("day 2 of an ECS Express stack", function () {
    const world = new World();
    let stack: Stack;
    let imageA = "";
    let imageB = "";

    before(async () => {
        await world.start();
    });
    after(async () => {
        await world.stop();
    });

    const clouds = () => world.clouds;
    const services = (): ExpressServiceRecord[] => Object.values(clouds().table<ExpressServiceRecord>("aws", "ecs.expressServices")).filter((s) => s.name === NAME);
    const service = (): ExpressServiceRecord => {
        const active = services().filter((s) => s.status === "ACTIVE");
        assert.strictEqual(active.length, 1, `one ACTIVE Express service ${NAME}`);
        return active[0];
    };
    const running = (): Revision => service().revisions[service().revisions.length - 1];
    const envOf = (revision: Revision): Record<string, string> => Object.fromEntries(revision.environment.map((e) => [e.name, e.value]));

    /** Asserts that the service runs `imageId` by the digest ECR holds, reading the current SECRET_KEY version. */
    function assertRuns(imageId: string): void {
        const digest = ecrDigest(clouds(), NAME, tagOf(imageId));
        assert.ok(digest, `the ECR stand-in holds ${tagOf(imageId)} in ${NAME}`);
        const revision = running();
        assert.strictEqual(revision.image, `${clouds().ecr.host}/${NAME}@${digest}`, "Express runs the digest ECR holds");
        assert.strictEqual(envOf(revision).IMAGE_ID, imageId, "and reports the image ID it runs");
        const secret = secretRecord(clouds(), `${NAME}-secret-key`)!;
        assert.deepStrictEqual(revision.secrets, [{ name: "SECRET_KEY", valueFrom: `${secret.arn}:::${currentVersionId(clouds(), `${NAME}-secret-key`)}` }]);
    }

    async function outputs(): Promise<Outputs> {
        return (await stack.outputs()) as unknown as Outputs;
    }

    it("first up: the service runs the build by digest, on the endpoint Express made, behind the two roles", async () => {
        stack = await Stack.create("prod-express", world.dir, world.scratch, world.env, {
            "aws:region": "eu-west-1",
            targets: ["aws-ecs-express"],
            app: { name: "onedigest", description: "onedigest" },
        });
        world.stacks.push(stack);
        await stack.setConfig("secretKey", SECRET, { secret: true });
        await withPack(stack, "up");
        const out = await outputs();
        imageA = out.imageId;
        assertRuns(imageA);
        const revision = running();
        assert.deepStrictEqual([revision.healthCheckPath, revision.containerPort, revision.cpu, revision.memory], ["/healthcheck", 8080, "256", "512"]);
        assert.deepStrictEqual(revision.scaling, { autoScalingMetric: "AVERAGE_CPU", autoScalingTargetValue: 60, minTaskCount: 2, maxTaskCount: 4 });
        assert.strictEqual(envOf(revision).FORCE_HTTPS, undefined);
        assert.strictEqual(envOf(revision).CANONICAL_HOST, undefined);
        assert.ok(!JSON.stringify(revision).includes(SECRET), "SECRET_KEY in the service's configuration");
        assert.deepStrictEqual(out.deployments["aws-ecs-express"], { url: service().endpoint, image: revision.image, imageId: imageA });
        assert.strictEqual(out.url, service().endpoint);
        assert.match(out.url, /^https:\/\/on-[0-9a-f]{32}\.ecs\.eu-west-1\.on\.aws$/);

        const roles = clouds().table<RoleRecord>("aws", "iam.roles");
        const infrastructure = Object.values(roles).find((r) => r.arn === service().infrastructureRoleArn)!;
        assert.deepStrictEqual(infrastructure.attached, [EXPRESS_INFRASTRUCTURE_POLICY]);
        assert.deepStrictEqual(infrastructure.inline, {});
        const execution = Object.values(roles).find((r) => r.arn === revision.executionRoleArn)!;
        assert.deepStrictEqual(execution.attached, [], "no managed policy on the execution role");
        const [policy] = Object.values(execution.inline).map((p) => JSON.parse(p) as { Statement: Array<{ Action: string[]; Resource: string[] }> });
        assert.deepStrictEqual(
            policy.Statement.map((s) => s.Resource),
            [["*"], [`arn:aws:ecr:eu-west-1:123456789012:repository/${NAME}`], [`arn:aws:logs:eu-west-1:123456789012:log-group:/onedigest/${NAME}-express:log-stream:*`], [secretRecord(clouds(), `${NAME}-secret-key`)!.arn]],
        );
    });

    it("a second preview is empty", async () => {
        await withPack(stack, "preview", [], ["--expect-no-changes", "--diff"]);
    });

    it("scripts/verify.sh asks the endpoint's /healthcheck (no fake serves one)", async () => {
        const verify = await run("bash", ["scripts/verify.sh", "prod-express", "--timeout", "3"], { cwd: world.dir, env: world.env, timeoutMs: 120_000 });
        assert.strictEqual(verify.code, 1, verify.stdout + verify.stderr);
        assert.ok((verify.stdout + verify.stderr).includes("aws-ecs-express"), verify.stdout + verify.stderr);
        assert.ok((verify.stdout + verify.stderr).includes(service().endpoint.replace(/^https:\/\//, "")), verify.stdout + verify.stderr);
    });

    it("an app change is a new revision of the same service, on the same endpoint", async () => {
        const endpoint = service().endpoint;
        const revisions = service().revisions.length;
        world.changeApp("day 2: build B");
        ok(await stack.up(), "pulumi up prod-express (build B)");
        imageB = (await outputs()).imageId;
        assert.notStrictEqual(imageB, imageA);
        assertRuns(imageB);
        assert.strictEqual(service().revisions.length, revisions + 1, "one deployment");
        assert.strictEqual(service().endpoint, endpoint);
        assert.strictEqual(services().length, 1, "the service was updated, not replaced");
    });

    it("rollback by image.ref: pinned to A's ECR digest, the service runs A again", async () => {
        const digest = ecrDigest(clouds(), NAME, tagOf(imageA));
        const login = clouds().logins.ecr;
        for (const [key, value] of Object.entries({ address: clouds().ecr.host, username: login.username, password: login.password })) {
            await stack.setConfig(`registryAuth[0].${key}`, value, { secret: true, path: true });
        }
        await stack.setConfig("image.ref", `${clouds().ecr.host}/${NAME}@${digest}`, { path: true });
        const up = await stack.up();
        if (up.code !== 0) console.log(`      rollback failed:\n${(up.stdout + up.stderr).split("\n").filter((l) => /error/i.test(l)).join("\n")}`);
        ok(up, "pulumi up prod-express (image.ref A)");
        assertRuns(imageA);
        assert.strictEqual((await outputs()).imageId, imageA);
        assert.deepStrictEqual(clouds().ecr.pushes.filter((p) => p.refused), [], "no push was refused by ECR's immutable tags");
        ok(await stack.cli(["preview", "--expect-no-changes"]), "pulumi preview --expect-no-changes after the rollback");
    });

    it("destroy: the service goes (INACTIVE, not stuck DRAINING), and AWS keeps exactly what the stack retains", async () => {
        const retained = await retainedResources(stack);
        const expected = retained.map((r) => awsRecordOf(clouds(), r.type, r.id)).sort();
        ok(await stack.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 600_000 }), "pulumi destroy prod-express");
        assert.deepStrictEqual(retained.map((r) => r.type).sort(), ["aws:ecr/repository:Repository", "aws:secretsmanager/secret:Secret"]);
        assert.deepStrictEqual(services().map((s) => s.status), ["INACTIVE"]);
        assert.deepStrictEqual(liveAws(clouds()), expected, "AWS holds exactly what the stack retained");
    });
});
