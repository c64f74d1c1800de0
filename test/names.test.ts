/**
 * Physical names: one pure function, every length-limited name within its platform's documented
 * limit, and two stacks of one project sharing no name.
 */
import * as assert from "assert";
import { createHash } from "crypto";

import { TARGET_KINDS } from "../providers";
import { EXPRESS_SERVICE_NAME } from "../providers/awsEcsExpress";
import { LIMITS, physicalName, type NameRule } from "../providers/names";
import { runProgram, type ProgramRun } from "./mocks";

const CLOUD = { "aws:region": "eu-west-1", "gcp:project": "onedigest-test", "gcp:region": "europe-west1", herokuApiKey: "hk-key", alerts: { email: "oncall@example.com" } };
/** The longest `app.name` the config accepts (32 characters). */
const LONGEST_APP = `a${"b".repeat(30)}z`;
const LONG_STACK = "staging-eu-west-1-blue-green-canary-with-a-long-suffix-01234";

/** Which input of which resource type is a physical name, and the limit it must keep. */
const NAMED: ReadonlyArray<[type: string, input: string, rule: NameRule]> = [
    ["aws:lb/loadBalancer:LoadBalancer", "name", LIMITS.loadBalancer],
    ["aws:lb/targetGroup:TargetGroup", "name", LIMITS.targetGroup],
    ["aws:elasticbeanstalk/environment:Environment", "name", LIMITS.beanstalkEnvironment],
    ["aws:elasticbeanstalk/application:Application", "name", LIMITS.beanstalkApplication],
    ["aws:elasticbeanstalk/applicationVersion:ApplicationVersion", "name", { max: 100 }],
    ["aws:iam/role:Role", "name", LIMITS.iamRole],
    ["aws:iam/instanceProfile:InstanceProfile", "name", LIMITS.instanceProfile],
    ["aws:ecr/repository:Repository", "name", LIMITS.ecrRepository],
    ["aws:secretsmanager/secret:Secret", "name", LIMITS.awsSecret],
    ["aws:cloudwatch/logGroup:LogGroup", "name", LIMITS.logGroup],
    ["aws:cloudwatch/metricAlarm:MetricAlarm", "name", LIMITS.alarm],
    ["aws:cloudwatch/dashboard:Dashboard", "dashboardName", LIMITS.dashboard],
    ["aws:sns/topic:Topic", "name", LIMITS.snsTopic],
    ["aws:ecs/cluster:Cluster", "name", LIMITS.ecs],
    ["aws:ecs/service:Service", "name", LIMITS.ecs],
    ["aws:ecs/taskDefinition:TaskDefinition", "family", LIMITS.ecs],
    ["aws:ecs/expressGatewayService:ExpressGatewayService", "serviceName", EXPRESS_SERVICE_NAME],
    ["aws:s3/bucket:Bucket", "bucketPrefix", LIMITS.bucketPrefix],
    ["gcp:cloudrunv2/service:Service", "name", LIMITS.cloudRunService],
    ["gcp:artifactregistry/repository:Repository", "repositoryId", LIMITS.artifactRepository],
    ["gcp:serviceaccount/account:Account", "accountId", LIMITS.serviceAccount],
    ["gcp:secretmanager/secret:Secret", "secretId", LIMITS.gcpSecret],
    ["pulumi-nodejs:dynamic/heroku:App", "name", LIMITS.herokuApp],
    ["docker:index/container:Container", "name", LIMITS.container],
    ["docker:index/network:Network", "name", LIMITS.container],
];
/** Inputs that hold a physical name on some resource type. */
const NAME_INPUTS = ["name", "family", "bucketPrefix", "repositoryId", "accountId", "secretId", "serviceName", "dashboardName"];
/** Resources whose `name` input is not a physical name of their own. */
const NOT_NAMES = new Set([
    "docker:index/remoteImage:RemoteImage",
    "docker:index/registryImage:RegistryImage",
    "pulumi:pulumi:StackReference",
    // `secretId` there refers to the secret.
    "aws:secretsmanager/secretVersion:SecretVersion",
    "gcp:secretmanager/secretIamMember:SecretIamMember",
]);

function physicalNames(run: ProgramRun): Array<{ type: string; name: string; value: string; rule: NameRule }> {
    return NAMED.flatMap(([type, input, rule]) => run.ofType(type).map((r) => ({ type, name: r.name, value: String(r.inputs[input]), rule })));
}

async function everyTarget(stack: string, app = "onedigest"): Promise<ProgramRun> {
    return runProgram({ targets: [...TARGET_KINDS], app: { name: app }, ...CLOUD }, { stack });
}

describe("names: the pure function", () => {
    it("joins app, stack and suffix when that fits", () => {
        assert.strictEqual(physicalName(["onedigest", "prod", "run"], { max: 30 }), "onedigest-prod-run");
    });

    it("cuts a long name and ends it with a stable hash of the whole", () => {
        const name = physicalName([LONGEST_APP, LONG_STACK], { max: 32 });
        assert.strictEqual(name.length, 32);
        assert.match(name, /^abbb[a-z0-9-]*-[0-9a-f]{6}$/);
        assert.strictEqual(physicalName([LONGEST_APP, LONG_STACK], { max: 32 }), name, "stable from run to run");
        assert.notStrictEqual(physicalName([LONGEST_APP, `${LONG_STACK}x`], { max: 32 }), name, "distinct for another stack");
    });

    it("makes characters the platforms refuse safe, and keeps such stacks apart", () => {
        const a = physicalName(["app", "Prod_EU"], { max: 63 });
        const b = physicalName(["app", "prod-eu"], { max: 63 });
        assert.match(a, /^app-prod-eu-[0-9a-f]{6}$/);
        assert.strictEqual(b, "app-prod-eu");
    });

    it("collapses runs of refused characters and dashes into one dash", () => {
        assert.match(physicalName(["a--b", "c__d"], { max: 63 }), /^a-b-c-d-[0-9a-f]{6}$/);
    });

    it("keeps a name exactly at its maximum or minimum length as it is", () => {
        assert.strictEqual(physicalName(["abc"], { max: 3 }), "abc");
        assert.strictEqual(physicalName(["abcdef"], { min: 6, max: 30 }), "abcdef");
    });

    it("the hash is of the parts as given, joined by '-' (and of `unique` after a newline)", () => {
        const sha = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 6);
        assert.strictEqual(physicalName(["app", "Prod_EU"], { max: 63 }), `app-prod-eu-${sha("app-Prod_EU")}`);
        assert.strictEqual(physicalName(["shop", "dev"], { max: 30, unique: "acme/onedigest/dev" }), `shop-dev-${sha("shop-dev\nacme/onedigest/dev")}`);
    });

    it("starts with a letter, whatever the parts start with", () => {
        assert.match(physicalName(["9lives", "dev"], { max: 63 }), /^x-9lives-dev-[0-9a-f]{6}$/);
        assert.match(physicalName(["--", "__"], { max: 63 }), /^x-[0-9a-f]{6}$/);
    });

    it("refuses a limit too short for the hash it may need", () => {
        assert.throws(() => physicalName(["a"], { max: 7, unique: "u" }), /^Error: physicalName: a limit of 7 leaves no room for a hash$/);
        assert.match(physicalName(["a"], { max: 8, unique: "u" }), /^a-[0-9a-f]{6}$/);
    });

    it("always hashes `unique` in, and pads up to a minimum", () => {
        assert.match(physicalName(["shop", "dev"], { max: 30, unique: "acme/onedigest/dev" }), /^shop-dev-[0-9a-f]{6}$/);
        assert.notStrictEqual(physicalName(["shop", "dev"], { max: 30, unique: "acme/onedigest/dev" }), physicalName(["shop", "dev"], { max: 30, unique: "other/onedigest/dev" }));
        assert.match(physicalName(["a", "p"], { min: 6, max: 30 }), /^a-p-[0-9a-f]{6}$/);
    });
});

describe("names: every generated name within its platform's limit", () => {
    for (const [app, stack] of [
        ["onedigest", "prod"],
        [LONGEST_APP, "prod"],
        [LONGEST_APP, LONG_STACK],
    ]) {
        it(`app.name of ${app.length} characters, stack of ${stack.length}`, async () => {
            const run = await everyTarget(stack, app);
            const names = physicalNames(run);
            assert.ok(names.length >= NAMED.length, `every named type was created (${names.length})`);
            for (const n of names) {
                const value = n.value;
                assert.ok(value.length <= n.rule.max && value.length >= (n.rule.min ?? 1), `${n.type} ${n.name}: "${value}" (${value.length}) is outside ${n.rule.min ?? 1}-${n.rule.max}`);
                const bare = n.type === "aws:cloudwatch/logGroup:LogGroup" ? value.replace(/^\/onedigest\//, "") : n.type === "aws:s3/bucket:Bucket" ? value.replace(/-$/, "") : value;
                assert.match(bare, /^[a-z]([a-z0-9-]*[a-z0-9])?$/, `${n.type} ${n.name}: "${value}"`);
            }
            // AWS reserves ALB names starting with "internal-".
            for (const lb of run.ofType("aws:lb/loadBalancer:LoadBalancer")) assert.doesNotMatch(String(lb.inputs.name), /^internal-/);
        });
    }

    it("names every AWS, GCP and Heroku resource that takes a physical name", async () => {
        const run = await everyTarget("prod");
        const covered = new Set(NAMED.map(([type]) => type));
        for (const r of run.mocks.resources) {
            if (r.type.startsWith("pulumi:providers:") || NOT_NAMES.has(r.type)) continue;
            const input = NAME_INPUTS.find((k) => typeof r.inputs[k] === "string");
            if (input && !covered.has(r.type)) assert.fail(`${r.type} ${r.name} sets ${input} "${String(r.inputs[input])}", which this test does not check`);
        }
    });
});

describe("names: two stacks of one project", () => {
    it("share no physical name", async () => {
        const [staging, prod] = [await everyTarget("staging"), await everyTarget("prod")];
        const taken = new Set(physicalNames(staging).map((n) => `${n.type} ${n.value}`));
        for (const n of physicalNames(prod)) assert.ok(!taken.has(`${n.type} ${n.value}`), `${n.type} "${n.value}" is used by both stacks`);
    });

    it("destroy: everything goes outside production; production keeps its registries and a restorable secret", async () => {
        for (const stack of ["staging", "prod"]) {
            const run = await everyTarget(stack);
            const production = stack === "prod";
            const [ecr] = run.ofType("aws:ecr/repository:Repository");
            assert.strictEqual(ecr.inputs.forceDelete, !production, `${stack}: ECR forceDelete`);
            assert.strictEqual(run.mocks.lifecycle.get(ecr.name)?.retainOnDelete, production, `${stack}: ECR kept by destroy`);
            const [gar] = run.ofType("gcp:artifactregistry/repository:Repository");
            assert.strictEqual(run.mocks.lifecycle.get(gar.name)?.retainOnDelete, production, `${stack}: Artifact Registry kept by destroy`);
            const [secret] = run.ofType("aws:secretsmanager/secret:Secret");
            assert.strictEqual(secret.inputs.recoveryWindowInDays, production ? 7 : 0, `${stack}: secret recovery window`);
            const [service] = run.ofType("gcp:cloudrunv2/service:Service");
            assert.strictEqual(service.inputs.deletionProtection, production, `${stack}: Cloud Run deletion protection`);
            const [bucket] = run.ofType("aws:s3/bucket:Bucket");
            assert.strictEqual(bucket.inputs.forceDestroy, true);
            // Fixed names: a replacement must first free the name.
            const [env] = run.ofType("aws:elasticbeanstalk/environment:Environment");
            assert.strictEqual(run.mocks.lifecycle.get(env.name)?.deleteBeforeReplace, true);
        }
    });
});
