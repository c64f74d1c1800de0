/**
 * A Beanstalk stack's lifecycle through the real CLI against the fake clouds: `prod-beanstalk`
 * (a production stack, so ECR and the secret outlive a destroy) with the one target `aws-beanstalk`
 * behind HTTPS, promoted from `dev` like prod: first up, an empty second preview, the same promotion
 * again, a `secretKey` rotation, the promotion of a new dev build, the re-promotion of an image it
 * ran before, a rollback by `image.ref`, `destroy`, and `up` again. Every check reads the fakes'
 * state (the environment's version and option settings, the bundle's files in S3, the ECR stand-in's
 * push log), not Pulumi's report.
 *
 * As in prod.scenario.ts, pulls from the loopback registries log in through `onedigest:registryAuth`.
 *
 * In the real-engine stage (test/engine/.mocharc.json); alone, with scripts/docker-env.sh's environment:
 *   npx mocha --no-config -r ts-node/register/transpile-only --node-option no-experimental-strip-types \
 *     --timeout 900000 --exit test/engine/day2/beanstalk.scenario.ts
 */
import * as assert from "assert";

import { RELEASE_CONFIG, dockerrun, releaseConfig, versionLabel } from "../../../providers/awsBeanstalk";
import { Stack, ok } from "../cli";
import type { ApplicationRecord, EnvironmentRecord } from "../fakes/aws/elasticbeanstalk";
import type { BucketRecord } from "../fakes/aws/s3";
import { withPack } from "../policyPack";
import { HEROKU_KEY, World } from "./world";
import { awsRecordOf, currentSecret, currentVersionId, ecrDigest, liveAws, retainedResources, secretRecord, setStrings, sha256, tagOf } from "./awsState";

const DEV_SECRET = "day2-dev-secret-0123456789abcdef";
const SECRETS = ["day2-eb-secret-0123456789abcdef", "day2-eb-secret-rotated-fedcba98"];
const CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const DOMAIN = "eb.example.com";
const NAME = "onedigest-prod-beanstalk";

interface Outputs {
    imageId: string;
    deployments: Record<string, { url: string; image: string; imageId: string }>;
}

type Setting = { namespace: string; name: string; value: string };

describe("day 2 of a Beanstalk stack promoted from dev", function () {
    const world = new World();
    let dev: Stack;
    let eb: Stack;
    let imageA = "";
    let imageB = "";
    let devA: Outputs;

    before(async () => {
        await world.start();
    });
    after(async () => {
        await world.stop();
    });

    const clouds = () => world.clouds;
    const environment = (): EnvironmentRecord => {
        const live = Object.values(clouds().table<EnvironmentRecord>("aws", "elasticbeanstalk.environments")).filter((e) => e.name === NAME && e.status !== "Terminated");
        assert.strictEqual(live.length, 1, `one live environment ${NAME}`);
        return live[0];
    };
    const setting = (namespace: string, name: string): string | undefined => (environment().settings as Setting[]).find((s) => s.namespace === namespace && s.name === name)?.value;

    /**
     * Asserts that the environment runs `imageId` with the current SECRET_KEY version: its version
     * label names ECR's digest and the key's version, and that version's bundle holds a Dockerrun
     * naming the digest and the release's option settings (IMAGE_ID, SECRET_KEY_VERSION).
     */
    function assertRuns(imageId: string): void {
        const digest = ecrDigest(clouds(), NAME, tagOf(imageId));
        assert.ok(digest, `the ECR stand-in holds ${tagOf(imageId)} in ${NAME}`);
        const secretVersion = currentVersionId(clouds(), `${NAME}-secret-key`)!;
        const env = environment();
        assert.strictEqual(env.versionLabel, versionLabel("onedigest", digest, secretVersion), "the environment runs the release of that digest and key version");
        const version = clouds().table<ApplicationRecord>("aws", "elasticbeanstalk.applications")[`eu-west-1/${NAME}`].versions[env.versionLabel];
        const files = clouds().table<BucketRecord>("aws", "s3.buckets")[version.bucket]?.objects[version.key]?.files;
        assert.deepStrictEqual(files, {
            "Dockerrun.aws.json": dockerrun(`${clouds().ecr.host}/${NAME}@${digest}`, 8080),
            [RELEASE_CONFIG]: releaseConfig(imageId, secretVersion),
        }, "the version's bundle names ECR's digest, the image ID and the key's version");
    }

    async function logins(s: Stack): Promise<void> {
        const entries = [
            { address: clouds().artifactRegistry.host, ...clouds().logins.artifactRegistry },
            { address: clouds().ecr.host, ...clouds().logins.ecr },
        ];
        for (const [i, e] of entries.entries()) {
            await s.setConfig(`registryAuth[${i}].address`, e.address, { secret: true, path: true });
            await s.setConfig(`registryAuth[${i}].username`, e.username, { secret: true, path: true });
            await s.setConfig(`registryAuth[${i}].password`, e.password, { secret: true, path: true });
        }
    }

    it("first up: dev, then the Beanstalk stack promoted from it behind HTTPS", async () => {
        dev = await world.stack("dev", { "gcp:project": "my-dev-project" }, { secretKey: DEV_SECRET, herokuApiKey: HEROKU_KEY });
        ok(await dev.up(), "pulumi up dev");
        devA = (await dev.outputs()) as unknown as Outputs;
        imageA = devA.imageId;

        eb = await Stack.create("prod-beanstalk", world.dir, world.scratch, world.env, {
            "aws:region": "eu-west-1",
            targets: ["aws-beanstalk"],
            app: { name: "onedigest", description: "onedigest", env: { FORCE_HTTPS: "1" } },
            image: { promoteFrom: "dev" },
            beanstalk: { certificateArn: CERTIFICATE, domain: DOMAIN },
        });
        world.stacks.push(eb);
        await setStrings(eb, { "app.env.FORCE_HTTPS": "1" });
        await eb.setConfig("secretKey", SECRETS[0], { secret: true });
        await logins(eb);
        await withPack(eb, "up");

        assertRuns(imageA);
        assert.strictEqual(setting("aws:elbv2:listener:443", "SSLCertificateArns"), CERTIFICATE);
        assert.strictEqual(setting("aws:elasticbeanstalk:application:environment", "CANONICAL_HOST"), DOMAIN);
        assert.strictEqual(setting("aws:elasticbeanstalk:application:environmentsecrets", "SECRET_KEY"), secretRecord(clouds(), `${NAME}-secret-key`)?.arn);
        assert.strictEqual(currentSecret(clouds(), `${NAME}-secret-key`), sha256(SECRETS[0]));
        assert.deepStrictEqual(environment().updates, []);
    });

    it("a second preview is empty", async () => {
        await withPack(eb, "preview", [], ["--expect-no-changes", "--diff"]);
    });

    it("the same promotion again changes nothing", async () => {
        const before = { aws: clouds().state("aws").tables, ecr: clouds().ecr.pushes.length };
        ok(await eb.up(), "pulumi up prod-beanstalk (same promotion)");
        assert.deepStrictEqual(clouds().state("aws").tables, before.aws);
        assert.strictEqual(clouds().ecr.pushes.length, before.ecr, "nothing pushed to ECR");
    });

    it("secretKey rotation: the environment is updated, so its instances read the new key; no key in plain text in the state", async () => {
        const updates = environment().updates.length;
        await eb.setConfig("secretKey", SECRETS[1], { secret: true });
        ok(await eb.up(), "pulumi up prod-beanstalk (rotated secretKey)");
        assert.strictEqual(currentSecret(clouds(), `${NAME}-secret-key`), sha256(SECRETS[1]), "Secrets Manager holds the new key");
        assert.strictEqual(environment().updates.length, updates + 1, "an UpdateEnvironment rolls the new key out");
        assertRuns(imageA);
        const exported = ok(await eb.cli(["stack", "export"], { config: false }), "pulumi stack export prod-beanstalk").stdout;
        for (const key of SECRETS) assert.ok(!exported.includes(key), "a secretKey is in plain text in the state");
    });

    it("a new dev build, promoted, is deployed to the environment", async () => {
        world.changeApp("day 2: build B");
        ok(await dev.up(), "pulumi up dev (build B)");
        imageB = ((await dev.outputs()) as unknown as Outputs).imageId;
        assert.notStrictEqual(imageB, imageA);
        const up = await eb.up();
        if (up.code !== 0) console.log(`      promotion of B failed:\n${(up.stdout + up.stderr).split("\n").filter((l) => /error:/.test(l)).join("\n")}`);
        ok(up, "pulumi up prod-beanstalk (promotion of B)");
        assertRuns(imageB);
    });

    it("re-promotion of an image it ran before (a rollback): dev pinned back to A, the environment runs A", async () => {
        await logins(dev);
        await dev.setConfig("image.ref", devA.deployments["gcp-cloudrun"].image, { path: true });
        ok(await dev.up(), "pulumi up dev (pinned to A)");
        ok(await eb.up(), "pulumi up prod-beanstalk (re-promotion of A)");
        assertRuns(imageA);
        assert.deepStrictEqual(clouds().ecr.pushes.filter((p) => p.refused), [], "no push was refused by ECR's immutable tags");
    });

    it("rollback by image.ref: pinned to B's ECR digest, the environment runs B", async () => {
        const digest = ecrDigest(clouds(), NAME, tagOf(imageB));
        assert.ok(digest, "B was pushed to ECR before");
        ok(await eb.cli(["config", "rm", "--path", "onedigest:image.promoteFrom"]), "config rm image.promoteFrom");
        await eb.setConfig("image.ref", `${clouds().ecr.host}/${NAME}@${digest}`, { path: true });
        ok(await eb.up(), "pulumi up prod-beanstalk (image.ref B)");
        assertRuns(imageB);
    });

    let keptSecretArn = "";

    it("destroy leaves exactly what the stack retains: the ECR repository, and the secret retained or in its recovery window", async () => {
        const retained = await retainedResources(eb);
        console.log(`      retained by prod-beanstalk: ${retained.map((r) => r.type).join(", ")}`);
        const expected = retained.map((r) => awsRecordOf(clouds(), r.type, r.id)).sort();
        keptSecretArn = secretRecord(clouds(), `${NAME}-secret-key`)!.arn;
        ok(await eb.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 600_000 }), "pulumi destroy prod-beanstalk");
        assert.ok(retained.some((r) => r.type === "aws:ecr/repository:Repository"), "the ECR repository (rollback history) is retained, as docs/configuration.md says");
        assert.deepStrictEqual(liveAws(clouds()), expected, "AWS holds exactly what the stack retained");
        const secret = secretRecord(clouds(), `${NAME}-secret-key`);
        assert.ok(secret, "the secret's name is still taken");
        if (!retained.some((r) => r.type === "aws:secretsmanager/secret:Secret")) assert.ok(secret.deletionDate, "a secret not retained is scheduled for deletion");
        else assert.strictEqual(secret.deletionDate, undefined, "a retained secret is never deleted");
    });

    it("up again after destroy deploys the environment again, adopting what destroy left", async () => {
        const up = await eb.up();
        if (up.code !== 0) console.log(`      up again failed:\n${(up.stdout + up.stderr).split("\n").filter((l) => /error:/.test(l)).join("\n")}`);
        ok(up, "pulumi up prod-beanstalk after destroy");
        assertRuns(imageB);
        assert.strictEqual(secretRecord(clouds(), `${NAME}-secret-key`)?.arn, keptSecretArn, "the secret the stack had, not a new one");
        ok(await eb.cli(["preview", "--expect-no-changes"]), "pulumi preview --expect-no-changes after the adoption");
    });
});
