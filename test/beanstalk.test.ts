/**
 * aws-beanstalk, whole: every option setting the environment receives, and every input of the
 * resources around it, exactly (the shapes AWS would receive; mocks cannot say how AWS acts on them).
 */
import * as assert from "assert";
import { createHash } from "crypto";

import { RELEASE_CONFIG, beanstalkEnv, dockerrun, environmentSettings, instanceArchitecture, releaseConfig, versionLabel, type BeanstalkSettings } from "../providers/awsBeanstalk";
import { beforeProgram } from "./helpers";
import { bundleFiles, hex, runProgram, type ProgramRun, type Recorded } from "./mocks";

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-123456789abc";
const BASE: BeanstalkSettings = { region: "eu-west-1", instanceType: "t3.small", minInstances: 2, maxInstances: 4, deploymentPolicy: "Immutable", logRetentionDays: 90, keepImages: 20 };
const ARGS = { port: 8080, healthPath: "/healthcheck", env: { LOG_LEVEL: "INFO" }, secretArn: "arn:secret", instanceProfile: "profile", serviceRole: "arn:role" };

/** The settings as `namespace name=value` lines, in the order they are given. */
function lines(settings: BeanstalkSettings): string[] {
    return environmentSettings({ ...ARGS, settings }).map((s) => `${s.namespace} ${s.name}=${s.value}`);
}

const ALWAYS = [
    "aws:autoscaling:asg MaxSize=4",
    "aws:autoscaling:asg MinSize=2",
    "aws:autoscaling:launchconfiguration DisableIMDSv1=true",
    "aws:autoscaling:launchconfiguration IamInstanceProfile=profile",
    "aws:ec2:instances InstanceTypes=t3.small",
    "aws:elasticbeanstalk:application:environment LOG_LEVEL=INFO",
    "aws:elasticbeanstalk:application:environment PORT=8080",
    "aws:elasticbeanstalk:application:environmentsecrets SECRET_KEY=arn:secret",
    "aws:elasticbeanstalk:cloudwatch:logs RetentionInDays=90",
    "aws:elasticbeanstalk:cloudwatch:logs StreamLogs=true",
    "aws:elasticbeanstalk:command DeploymentPolicy=POLICY",
    "aws:elasticbeanstalk:command IgnoreHealthCheck=false",
    "aws:elasticbeanstalk:environment EnvironmentType=LoadBalanced",
    "aws:elasticbeanstalk:environment LoadBalancerType=application",
    "aws:elasticbeanstalk:environment ServiceRole=arn:role",
    "aws:elasticbeanstalk:environment:process:default DeregistrationDelay=20",
    "aws:elasticbeanstalk:environment:process:default HealthCheckInterval=15",
    "aws:elasticbeanstalk:environment:process:default HealthCheckPath=/healthcheck",
    "aws:elasticbeanstalk:environment:process:default MatcherHTTPCode=200",
    "aws:elasticbeanstalk:healthreporting:system SystemType=enhanced",
    "aws:elasticbeanstalk:managedactions ManagedActionsEnabled=true",
    "aws:elasticbeanstalk:managedactions PreferredStartTime=Sun:03:00",
    "aws:elasticbeanstalk:managedactions:platformupdate UpdateLevel=minor",
];
const BATCHES = ["aws:elasticbeanstalk:command BatchSize=50", "aws:elasticbeanstalk:command BatchSizeType=Percentage"];
const TLS = [
    "aws:elbv2:listener:443 ListenerEnabled=true",
    "aws:elbv2:listener:443 Protocol=HTTPS",
    `aws:elbv2:listener:443 SSLCertificateArns=${CERT}`,
    "aws:elbv2:listener:443 SSLPolicy=ELBSecurityPolicy-TLS13-1-2-2021-06",
];
const sorted = (xs: string[]): string[] => [...xs].sort((a, b) => a.split("=")[0].localeCompare(b.split("=")[0]));

describe("aws-beanstalk: every option setting, per deployment policy and with TLS", () => {
    for (const policy of ["AllAtOnce", "Immutable", "TrafficSplitting"] as const) {
        it(`${policy}: no batch settings`, () => {
            assert.deepStrictEqual(lines({ ...BASE, deploymentPolicy: policy }), sorted(ALWAYS.map((l) => l.replace("POLICY", policy))));
        });
    }
    for (const policy of ["Rolling", "RollingWithAdditionalBatch"] as const) {
        it(`${policy}: half the instances per batch`, () => {
            assert.deepStrictEqual(lines({ ...BASE, deploymentPolicy: policy }), sorted([...ALWAYS.map((l) => l.replace("POLICY", policy)), ...BATCHES]));
        });
    }
    it("a certificate adds the HTTPS listener with the TLS 1.3 policy", () => {
        assert.deepStrictEqual(lines({ ...BASE, certificateArn: CERT }), sorted([...ALWAYS.map((l) => l.replace("POLICY", "Immutable")), ...TLS]));
    });
});

describe("aws-beanstalk: pure helpers", () => {
    it("Dockerrun v1, exactly", () => {
        assert.strictEqual(
            dockerrun("r.example.com/app@sha256:1", 8080),
            JSON.stringify({ AWSEBDockerrunVersion: "1", Image: { Name: "r.example.com/app@sha256:1", Update: "true" }, Ports: [{ ContainerPort: "8080" }] }, null, 2),
        );
    });

    it("the container's env leaves PORT to the option settings", () => {
        const app = { name: "a", description: "", port: 8080, env: {}, stack: "dev", production: false, secretKey: undefined as never, healthPath: "/healthcheck" };
        const env = beanstalkEnv(app, {});
        assert.strictEqual(env.PORT, undefined);
        assert.strictEqual(env.IMAGE_ID, undefined, "the image ID travels with the release, not the environment's settings");
        assert.strictEqual(env.PROXY_FIX_COUNT, "2");
        assert.strictEqual(env.PROXY_FIX_PROTO_COUNT, "1");
    });

    it("Graviton families of any generation", () => {
        for (const type of ["t4g.small", "m7gd.large", "c7gn.xlarge", "im4gn.large", "a1.medium", "c10g.large"]) assert.strictEqual(instanceArchitecture(type), "linux/arm64", type);
        for (const type of ["t3.small", "m7i.large", "g5.xlarge", "g4dn.xlarge", "c7a.large"]) assert.strictEqual(instanceArchitecture(type), "linux/amd64", type);
    });
});

describe("aws-beanstalk: the resources around the environment, exactly", () => {
    let run: ProgramRun;
    const one = (type: string, nameEnds = ""): Recorded => {
        const found = run.ofType(type).filter((r) => r.name.endsWith(nameEnds));
        assert.strictEqual(found.length, 1, `${type} *${nameEnds}: ${found.map((r) => r.name).join(", ")}`);
        return found[0];
    };
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-beanstalk"], "aws:region": "eu-west-1" });
    });

    it("every resource is a child of the environment's component", () => {
        const [component] = run.ofType("onedigest:aws:BeanstalkEnvironment");
        for (const r of run.mocks.resources.filter((x) => x.type.startsWith("aws:s3/") || x.type.startsWith("aws:iam/") || x.type.startsWith("aws:elasticbeanstalk/"))) {
            assert.strictEqual(run.mocks.parents.get(r.name), component.name, r.name);
        }
    });

    it("bundle bucket: owner-enforced, bucket-key encryption; the bundle, a zip named after its release, encrypted", () => {
        assert.deepStrictEqual(one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
        assert.deepStrictEqual(one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules, [
            { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true },
        ]);
        const bundle = one("aws:s3/bucketObjectv2:BucketObjectv2").inputs;
        assert.strictEqual(bundle.contentType, "application/zip");
        assert.strictEqual(bundle.serverSideEncryption, "AES256");
        assert.match(String(bundle.key), /^onedigest\/onedigest-[0-9a-f]{24}-[0-9a-f]{8}\.zip$/);
    });

    it("service role: assumed by Beanstalk with its external ID; enhanced health and managed updates", () => {
        const role = one("aws:iam/role:Role", "service-role").inputs;
        assert.match(String(role.name), /^onedigest-test-eb-service/);
        assert.deepStrictEqual(JSON.parse(String(role.assumeRolePolicy)), {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "elasticbeanstalk.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "sts:ExternalId": "elasticbeanstalk" } } }],
        });
        const attached = run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => `${a.name.replace(/^.*-(service-policy-\d|instance-webtier)$/, "$1")} ${String(a.inputs.policyArn)}`);
        assert.deepStrictEqual(attached.sort(), [
            "instance-webtier arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier",
            "service-policy-0 arn:aws:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth",
            "service-policy-1 arn:aws:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
        ]);
    });

    it("instance role: assumed by EC2; reads its one repository and its one secret", () => {
        const role = one("aws:iam/role:Role", "instance-role").inputs;
        assert.match(String(role.name), /^onedigest-test-eb-instance/);
        assert.deepStrictEqual(JSON.parse(String(role.assumeRolePolicy)), { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] });
        const repo = one("aws:ecr/repository:Repository");
        const [secret] = run.ofType("aws:secretsmanager/secret:Secret");
        assert.deepStrictEqual(JSON.parse(String(one("aws:iam/rolePolicy:RolePolicy").inputs.policy)), {
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], Resource: [`arn:aws:ecr:eu-west-1:123456789012:repository/${repo.name}`] },
                { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
                { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [`arn:aws:mock:eu-west-1:123456789012:secretsmanager/secret/${secret.name}`] },
            ],
        });
        assert.match(String(one("aws:iam/instanceProfile:InstanceProfile").inputs.name), /^onedigest-test-eb-instance/);
    });

    it("application: versions expire after 50 with their bundles; a version per digest", () => {
        const application = one("aws:elasticbeanstalk/application:Application").inputs;
        assert.deepStrictEqual(application.appversionLifecycle, { serviceRole: `arn:aws:mock:eu-west-1:123456789012:iam/role/${one("aws:iam/role:Role", "service-role").name}`, maxCount: 50, deleteSourceFromS3: true });
        const version = one("aws:elasticbeanstalk/applicationVersion:ApplicationVersion").inputs;
        assert.match(String(version.name), /^onedigest-[0-9a-f]{24}-[0-9a-f]{8}$/);
        assert.strictEqual(`onedigest/${String(version.name)}.zip`, one("aws:s3/bucketObjectv2:BucketObjectv2").inputs.key);
        assert.match(String(version.description), /^onedigest at 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/onedigest-test@sha256:[0-9a-f]{64}$/);
        const env = one("aws:elasticbeanstalk/environment:Environment").inputs;
        assert.strictEqual(env.tier, "WebServer");
        assert.strictEqual(env.version, version.name);
    });
});

describe("aws-beanstalk: a release is a version change alone", () => {
    const AWS = { targets: ["aws-beanstalk"], "aws:region": "eu-west-1" };
    const releaseOf = (run: ProgramRun) => {
        const bundle = run.ofType("aws:s3/bucketObjectv2:BucketObjectv2")[0];
        const env = run.ofType("aws:elasticbeanstalk/environment:Environment")[0].inputs;
        return {
            settings: JSON.stringify(env.settings),
            version: String(env.version),
            release: (JSON.parse(bundleFiles(bundle)[RELEASE_CONFIG]) as { option_settings: Array<{ option_name: string; value: string }> }).option_settings,
        };
    };

    it("the release's settings, exactly: the image ID and the key's version, for the environment's app", () => {
        assert.strictEqual(
            releaseConfig(`sha256:${"1".repeat(64)}`, "v-1"),
            JSON.stringify(
                {
                    option_settings: [
                        { namespace: "aws:elasticbeanstalk:application:environment", option_name: "IMAGE_ID", value: `sha256:${"1".repeat(64)}` },
                        { namespace: "aws:elasticbeanstalk:application:environment", option_name: "SECRET_KEY_VERSION", value: "v-1" },
                    ],
                },
                null,
                2,
            ),
        );
        assert.strictEqual(versionLabel("shop", `sha256:${"ab".repeat(32)}`, "v-1"), `shop-${"ab".repeat(12)}-${createHash("sha256").update("v-1").digest("hex").slice(0, 8)}`);
    });

    it("a new image changes the version and not the environment's settings (UpdateEnvironment refuses both in one call)", async () => {
        const before = releaseOf(await runProgram(AWS));
        const after = releaseOf(await runProgram(AWS, { states: { "docker:index/image:Image": () => ({ repoDigest: `sha256:${hex("other bits")}` }) } }));
        assert.strictEqual(after.settings, before.settings);
        assert.notStrictEqual(after.version, before.version);
        assert.notDeepStrictEqual(after.release[0], before.release[0]);
        assert.strictEqual(after.release[0].value, `sha256:${hex("other bits")}`);
    });

    it("a rotated key changes the version too, and still not the settings", async () => {
        const before = releaseOf(await runProgram({ ...AWS, secretKey: "first-key-0123456789abcdef" }));
        const after = releaseOf(await runProgram({ ...AWS, secretKey: "second-key-0123456789abcdef" }));
        assert.strictEqual(after.settings, before.settings);
        assert.notStrictEqual(after.version, before.version);
        assert.deepStrictEqual(after.release[0], before.release[0], "the same image");
        assert.notStrictEqual(after.release[1].value, before.release[1].value);
    });
});
