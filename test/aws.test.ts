/** aws-ecs and aws-beanstalk: secure defaults asserted on recorded inputs, and bad input. */
import * as assert from "assert";

import { environmentSettings, type BeanstalkSettings } from "../providers/awsBeanstalk";
import { FARGATE_SIZES } from "../providers/awsEcs";
import { GRACEFUL_TIMEOUT_SECONDS } from "../providers/types";
import { beforeProgram, configError } from "./helpers";
import { PUSH, bundleFiles, pushLoginOf, runProgram, runProgramError, type ProgramRun, type Recorded } from "./mocks";

const AWS = { "aws:region": "eu-west-1" };
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-123456789abc";

function one(run: ProgramRun, type: string, nameEnds?: string): Recorded {
    const found = run.ofType(type).filter((r) => !nameEnds || r.name.endsWith(nameEnds));
    assert.strictEqual(found.length, 1, `expected one ${type}${nameEnds ? ` named *${nameEnds}` : ""}, got ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

describe("aws-ecs: defaults on the recorded resources", () => {
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-ecs"], ...AWS });
    });

    it("ECR: immutable tags, scan on push, lifecycle keeping the last N", () => {
        const repo = one(run, "aws:ecr/repository:Repository");
        assert.strictEqual(repo.inputs.imageTagMutability, "IMMUTABLE");
        assert.deepStrictEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
        const policy = JSON.parse(String(one(run, "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs.policy)) as { rules: Array<{ selection: { countNumber: number } }> };
        assert.strictEqual(policy.rules[0].selection.countNumber, 20);
    });

    it("pushes with the ECR token as a secret input, to the repository the token is for", () => {
        const push = one(run, PUSH);
        assert.deepStrictEqual(pushLoginOf(push), { server: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", username: "AWS", password: "ecr-password-from-token" });
        assert.match(String(push.inputs.repository), /^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\//);
        assert.strictEqual(push.inputs.manifest, "any");
        assert.ok(run.mocks.invokes.some((i) => i.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken"));
    });

    it("task security group accepts only the ALB's security group, on the container port", () => {
        const sgs = run.ofType("aws:ec2/securityGroup:SecurityGroup");
        const taskSg = sgs.find((s) => s.name.endsWith("task-sg"))!;
        const albSg = sgs.find((s) => s.name.endsWith("alb-sg"))!;
        const ingress = run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
        const intoTasks = ingress.filter((r) => r.inputs.securityGroupId === taskSg.id);
        assert.strictEqual(intoTasks.length, 1);
        assert.strictEqual(intoTasks[0].inputs.referencedSecurityGroupId, albSg.id);
        assert.deepStrictEqual([intoTasks[0].inputs.fromPort, intoTasks[0].inputs.toPort], [8080, 8080]);
        assert.strictEqual(intoTasks[0].inputs.cidrIpv4, undefined);
        const intoAlb = ingress.filter((r) => r.inputs.securityGroupId === albSg.id).map((r) => r.inputs.fromPort);
        assert.deepStrictEqual([...new Set(intoAlb)], [80], "HTTP only without a certificate");
    });

    it("ALB drops invalid headers; target group probes /healthcheck with ip targets and a short drain", () => {
        assert.strictEqual(one(run, "aws:lb/loadBalancer:LoadBalancer").inputs.dropInvalidHeaderFields, true);
        const tg = one(run, "aws:lb/targetGroup:TargetGroup").inputs;
        assert.strictEqual(tg.targetType, "ip");
        assert.strictEqual((tg.healthCheck as { path: string }).path, "/healthcheck");
        assert.ok(Number(tg.deregistrationDelay) <= 30);
        const listener = one(run, "aws:lb/listener:Listener").inputs;
        assert.deepStrictEqual([listener.port, listener.protocol], [80, "HTTP"]);
    });

    it("service: circuit breaker with rollback, 100/200 %, waits for steady state", () => {
        const service = one(run, "aws:ecs/service:Service").inputs;
        assert.deepStrictEqual(service.deploymentCircuitBreaker, { enable: true, rollback: true });
        assert.strictEqual(service.deploymentMinimumHealthyPercent, 100);
        assert.strictEqual(service.deploymentMaximumPercent, 200);
        assert.strictEqual(service.waitForSteadyState, true);
        assert.strictEqual(service.healthCheckGracePeriodSeconds, 30);
        assert.strictEqual(service.launchType, "FARGATE");
    });

    it("task definition: secret from Secrets Manager, nothing secret-like in environment, logs retained", () => {
        const task = one(run, "aws:ecs/taskDefinition:TaskDefinition").inputs;
        const [container] = JSON.parse(String(task.containerDefinitions)) as Array<Record<string, unknown>>;
        const secret = one(run, "aws:secretsmanager/secret:Secret");
        // By version (`<arn>:<json-key>:<stage>:<version-id>`): a rotated key is a new revision.
        const versionId = String(run.mocks.state.get(one(run, "aws:secretsmanager/secretVersion:SecretVersion").name)?.versionId);
        assert.match(versionId, /^[0-9a-f-]{36}$/);
        assert.deepStrictEqual(container.secrets, [{ name: "SECRET_KEY", valueFrom: `arn:aws:mock:eu-west-1:123456789012:secretsmanager/secret/${secret.name}:::${versionId}` }]);
        const env = container.environment as Array<{ name: string; value: string }>;
        // Behind one proxy (the ALB): the app trusts one hop of X-Forwarded-*.
        assert.deepStrictEqual(env, [
            // No domain: HTTPS redirects (if the app is told to make them) go to the ALB's own name.
            { name: "CANONICAL_HOST", value: "onedigest-aws-ecs-alb-123.eu-west-1.elb.amazonaws.com" },
            { name: "IMAGE_ID", value: String(run.outputs.imageId) },
            { name: "PORT", value: "8080" },
            { name: "PROXY_FIX_COUNT", value: "1" },
        ]);
        for (const { name } of env) assert.doesNotMatch(name, /SECRET|PASSWORD|TOKEN|KEY/);
        assert.strictEqual(container.readonlyRootFilesystem, true);
        assert.strictEqual(container.privileged, false);
        assert.ok(Number(container.stopTimeout) > GRACEFUL_TIMEOUT_SECONDS, "stopTimeout must exceed gunicorn's graceful timeout");
        assert.strictEqual((container.logConfiguration as { logDriver: string }).logDriver, "awslogs");
        assert.strictEqual(one(run, "aws:cloudwatch/logGroup:LogGroup").inputs.retentionInDays, 30);
        assert.deepStrictEqual([task.cpu, task.memory, task.networkMode], ["256", "512", "awsvpc"]);
    });

    it("IAM: execution role reads exactly the one secret; task role has no policy", () => {
        const policies = run.ofType("aws:iam/rolePolicy:RolePolicy");
        assert.strictEqual(policies.length, 1);
        const doc = JSON.parse(String(policies[0].inputs.policy)) as { Statement: Array<{ Action: string[]; Resource: string[] }> };
        const secret = one(run, "aws:secretsmanager/secret:Secret");
        assert.deepStrictEqual(doc.Statement, [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [`arn:aws:mock:eu-west-1:123456789012:secretsmanager/secret/${secret.name}`] }]);
        const attachments = run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        assert.deepStrictEqual(attachments.map((a) => a.inputs.policyArn), ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]);
    });

    it("Container Insights on; CPU target tracking between minCount and maxCount", () => {
        assert.deepStrictEqual(one(run, "aws:ecs/cluster:Cluster").inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
        const target = one(run, "aws:appautoscaling/target:Target").inputs;
        assert.deepStrictEqual([target.minCapacity, target.maxCapacity], [2, 4]);
        const policy = one(run, "aws:appautoscaling/policy:Policy").inputs;
        const tracking = policy.targetTrackingScalingPolicyConfiguration as { targetValue: number; predefinedMetricSpecification: { predefinedMetricType: string } };
        assert.strictEqual(tracking.predefinedMetricSpecification.predefinedMetricType, "ECSServiceAverageCPUUtilization");
        assert.strictEqual(tracking.targetValue, 60);
    });

    it("with a certificate: HTTPS on 443 with a TLS 1.3 policy and HTTP redirected", async () => {
        const tls = await runProgram({ targets: ["aws-ecs"], ...AWS, ecs: { certificateArn: CERT, domain: "app.example.com" } });
        const listeners = tls.ofType("aws:lb/listener:Listener").map((l) => l.inputs);
        const httpsListener = listeners.find((l) => l.port === 443)!;
        assert.strictEqual(httpsListener.protocol, "HTTPS");
        assert.strictEqual(httpsListener.certificateArn, CERT);
        assert.match(String(httpsListener.sslPolicy), /TLS13/);
        const http = listeners.find((l) => l.port === 80)!;
        assert.deepStrictEqual((http.defaultActions as Array<{ type: string }>)[0].type, "redirect");
        assert.strictEqual((tls.outputs.deployments as Record<string, { url: string }>)["aws-ecs"].url, "https://app.example.com");
        const albPorts = tls.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.name.includes("alb-in")).map((r) => r.inputs.fromPort);
        assert.deepStrictEqual([...new Set(albPorts)].sort(), [443, 80]);
    });
});

describe("aws-beanstalk: defaults on the recorded resources", () => {
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-beanstalk"], ...AWS });
    });

    it("Dockerrun v1 names the image by digest, in a key that includes the digest", () => {
        const bundle = one(run, "aws:s3/bucketObjectv2:BucketObjectv2");
        const dockerrun = JSON.parse(bundleFiles(bundle)["Dockerrun.aws.json"]) as { AWSEBDockerrunVersion: string; Image: { Name: string }; Ports: Array<{ ContainerPort: string }> };
        assert.strictEqual(dockerrun.AWSEBDockerrunVersion, "1");
        assert.match(dockerrun.Image.Name, /^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/onedigest-test@sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual(dockerrun.Ports, [{ ContainerPort: "8080" }]);
        assert.ok(String(bundle.inputs.key).includes(dockerrun.Image.Name.split("sha256:")[1].slice(0, 24)));
    });

    it("bundle bucket is private and encrypted", () => {
        const block = one(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
        for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.strictEqual(block[flag], true, flag);
        const sse = one(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs;
        assert.strictEqual((sse.rules as Array<{ applyServerSideEncryptionByDefault: { sseAlgorithm: string } }>)[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
    });

    it("environment: newest AL2023 Docker stack, health check path, enhanced health, capacity kept on deploy, secret from Secrets Manager", () => {
        const env = one(run, "aws:elasticbeanstalk/environment:Environment").inputs;
        assert.strictEqual(env.solutionStackName, "64bit Amazon Linux 2023 v4.4.1 running Docker");
        const lookup = run.mocks.invokes.find((i) => i.token === "aws:elasticbeanstalk/getSolutionStack:getSolutionStack")!;
        assert.deepStrictEqual(lookup.inputs, { mostRecent: true, nameRegex: "^64bit Amazon Linux 2023 (.*) running Docker$" });
        const settings = env.settings as Array<{ namespace: string; name: string; value: string }>;
        const get = (ns: string, name: string) => settings.find((s) => s.namespace === ns && s.name === name)?.value;
        assert.strictEqual(get("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath"), "/healthcheck");
        assert.strictEqual(get("aws:elasticbeanstalk:healthreporting:system", "SystemType"), "enhanced");
        // One instance by default: Rolling would take it out on every deploy.
        assert.strictEqual(get("aws:elasticbeanstalk:command", "DeploymentPolicy"), "RollingWithAdditionalBatch");
        // ALB then nginx append to X-Forwarded-For; only the ALB sets X-Forwarded-Proto.
        assert.strictEqual(get("aws:elasticbeanstalk:application:environment", "PROXY_FIX_COUNT"), "2");
        assert.strictEqual(get("aws:elasticbeanstalk:application:environment", "PROXY_FIX_PROTO_COUNT"), "1");
        assert.strictEqual(get("aws:elasticbeanstalk:environment", "LoadBalancerType"), "application");
        // Instances answer only IMDSv2 (session tokens): no SSRF-style credential reads.
        assert.strictEqual(get("aws:autoscaling:launchconfiguration", "DisableIMDSv1"), "true");
        assert.strictEqual(get("aws:elasticbeanstalk:application:environment", "PORT"), "8080");
        assert.match(String(get("aws:elasticbeanstalk:application:environmentsecrets", "SECRET_KEY")), /^arn:aws:mock:.*secretsmanager/);
        for (const s of settings) {
            assert.strictEqual(typeof s.value, "string", `${s.namespace}/${s.name} is not a string`);
            if (s.namespace === "aws:elasticbeanstalk:application:environment") assert.doesNotMatch(s.name, /SECRET|PASSWORD|TOKEN/);
        }
    });

    it("instance role: web tier plus ECR read of that one repository", () => {
        const policy = JSON.parse(String(one(run, "aws:iam/rolePolicy:RolePolicy").inputs.policy)) as { Statement: Array<{ Action: string[]; Resource: string[] }> };
        const repo = one(run, "aws:ecr/repository:Repository");
        const pull = policy.Statement.find((s) => s.Action.includes("ecr:BatchGetImage"))!;
        assert.deepStrictEqual(pull.Resource, [`arn:aws:ecr:eu-west-1:123456789012:repository/${repo.name}`]);
        const attached = run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs.policyArn);
        assert.ok(attached.includes("arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier"));
    });

    it("settings are deterministic: two evaluations give identical, sorted, all-string lists", () => {
        const s: BeanstalkSettings = { region: "eu-west-1", instanceType: "t3.small", minInstances: 1, maxInstances: 3, deploymentPolicy: "Immutable", logRetentionDays: 30, keepImages: 20, certificateArn: CERT };
        const args = { settings: s, port: 8080, healthPath: "/healthcheck", env: { B: "2", A: "1" }, secretArn: "arn:s", instanceProfile: "p", serviceRole: "r" };
        const first = environmentSettings(args);
        const second = environmentSettings({ ...args, env: { A: "1", B: "2" } });
        assert.deepStrictEqual(first, second);
        const keys = first.map((x) => `${x.namespace} ${x.name}`);
        assert.deepStrictEqual(keys, [...keys].sort((a, b) => a.localeCompare(b)));
        assert.ok(first.some((x) => x.namespace === "aws:elbv2:listener:443" && x.name === "SSLCertificateArns" && x.value === CERT));
    });

    it("two evaluations of the program register identical environment settings", async () => {
        const again = await runProgram({ targets: ["aws-beanstalk"], ...AWS });
        assert.deepStrictEqual(one(again, "aws:elasticbeanstalk/environment:Environment").inputs.settings, one(run, "aws:elasticbeanstalk/environment:Environment").inputs.settings);
    });
});

describe("aws: permissions exist before anything needs them", () => {
    const grantTypes = ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/rolePolicy:RolePolicy"];

    it("ECS: the task definition and the service wait for every policy of their roles", async () => {
        const run = await runProgram({ targets: ["aws-ecs"], ...AWS, ecs: { taskPolicyArns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"] } });
        const grants = run.mocks.resources.filter((r) => grantTypes.includes(r.type)).map((r) => r.name);
        assert.strictEqual(grants.length, 3, grants.join(", "));
        for (const type of ["aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/service:Service"]) {
            const deps = run.mocks.dependencies.get(one(run, type).name) ?? [];
            assert.deepStrictEqual(grants.filter((g) => !deps.includes(g)), [], `${type} does not wait for these grants`);
        }
    });

    it("Beanstalk: the environment waits for every policy of its service and instance roles", async () => {
        const run = await runProgram({ targets: ["aws-beanstalk"], ...AWS });
        const grants = run.mocks.resources.filter((r) => grantTypes.includes(r.type)).map((r) => r.name);
        assert.strictEqual(grants.length, 4, grants.join(", "));
        const deps = run.mocks.dependencies.get(one(run, "aws:elasticbeanstalk/environment:Environment").name) ?? [];
        assert.deepStrictEqual(grants.filter((g) => !deps.includes(g)), [], "the environment does not wait for these grants");
    });
});

describe("aws: both targets in one stack", () => {
    it("share one ECR repository, one push and one secret", async () => {
        const run = await runProgram({ targets: ["aws-ecs", "aws-beanstalk"], ...AWS });
        assert.strictEqual(run.ofType("aws:ecr/repository:Repository").length, 1);
        assert.strictEqual(run.ofType(PUSH).length, 1);
        assert.strictEqual(run.ofType("aws:secretsmanager/secret:Secret").length, 1);
        const d = run.outputs.deployments as Record<string, { image: string }>;
        assert.strictEqual(d["aws-ecs"].image, d["aws-beanstalk"].image);
    });
});

describe("aws: bad input, exact messages, nothing registered", () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
        [
            "invalid Fargate cpu/memory pair",
            { targets: ["aws-ecs"], ecs: { cpu: 256, memory: 4096 } },
            `onedigest:ecs.memory: got 4096; expected a Fargate memory size for cpu 256: one of 512, 1024, 2048. Fix: pulumi config set --path onedigest:ecs.memory 512`,
        ],
        [
            "not a Fargate cpu value",
            { targets: ["aws-ecs"], ecs: { cpu: 300 } },
            `onedigest:ecs.cpu: got 300; expected a Fargate cpu value: one of 256, 512, 1024, 2048, 4096, 8192, 16384. Fix: pulumi config set --path onedigest:ecs.cpu 256`,
        ],
        [
            "min > max",
            { targets: ["aws-ecs"], ecs: { minCount: 5, maxCount: 3, desiredCount: 3 } },
            `onedigest:ecs.minCount: got 5; expected at most maxCount (3). Fix: pulumi config set --path onedigest:ecs.minCount 3`,
        ],
        [
            "malformed certificate ARN",
            { targets: ["aws-ecs"], ecs: { certificateArn: "arn:aws:iam::123:server-certificate/x", domain: "app.example.com" } },
            `onedigest:ecs.certificateArn: got "arn:aws:iam::123:server-certificate/x"; expected an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>. Fix: pulumi config set --path onedigest:ecs.certificateArn 'arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>'`,
        ],
        [
            "unknown deployment policy",
            { targets: ["aws-beanstalk"], beanstalk: { deploymentPolicy: "BlueGreen" } },
            `onedigest:beanstalk.deploymentPolicy: got "BlueGreen"; expected one of Rolling, RollingWithAdditionalBatch, Immutable, TrafficSplitting, AllAtOnce. Fix: pulumi config set --path onedigest:beanstalk.deploymentPolicy RollingWithAdditionalBatch`,
        ],
        [
            "beanstalk min > max",
            { targets: ["aws-beanstalk"], beanstalk: { minInstances: 4, maxInstances: 2 } },
            `onedigest:beanstalk.minInstances: got 4; expected at most maxInstances (2). Fix: pulumi config set --path onedigest:beanstalk.minInstances 2`,
        ],
        [
            "subnets without a VPC",
            { targets: ["aws-ecs"], ecs: { subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] } },
            `onedigest:ecs.vpcId: got (not set); expected the VPC of those subnets, set together with subnetIds. Fix: pulumi config set --path onedigest:ecs.vpcId vpc-0123456789abcdef0`,
        ],
        [
            "a VPC without its subnets",
            { targets: ["aws-ecs"], ecs: { vpcId: "vpc-0123456789abcdef0" } },
            `onedigest:ecs.subnetIds: got (not set); expected the ALB's subnets in that VPC, set together with vpcId. Fix: pulumi config rm --path onedigest:ecs.subnetIds && pulumi config set --path 'onedigest:ecs.subnetIds[0]' subnet-0123456789abcdef0 && pulumi config set --path 'onedigest:ecs.subnetIds[1]' subnet-0123456789abcdef1`,
        ],
        [
            "one subnet",
            { targets: ["aws-ecs"], ecs: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"] } },
            `onedigest:ecs.subnetIds: got ["subnet-0123456789abcdef0"]; expected at least two subnets in different availability zones (an ALB needs two). Fix: pulumi config rm --path onedigest:ecs.subnetIds && pulumi config set --path 'onedigest:ecs.subnetIds[0]' subnet-0123456789abcdef0 && pulumi config set --path 'onedigest:ecs.subnetIds[1]' subnet-0123456789abcdef1`,
        ],
        [
            "desired count outside min..max",
            { targets: ["aws-ecs"], ecs: { minCount: 2, maxCount: 4, desiredCount: 5 } },
            `onedigest:ecs.desiredCount: got 5; expected from minCount to maxCount (2-4). Fix: pulumi config set --path onedigest:ecs.desiredCount 2`,
        ],
        [
            "desired count below min",
            { targets: ["aws-ecs"], ecs: { minCount: 2, maxCount: 4, desiredCount: 1 } },
            `onedigest:ecs.desiredCount: got 1; expected from minCount to maxCount (2-4). Fix: pulumi config set --path onedigest:ecs.desiredCount 2`,
        ],
    ];
    for (const [what, config, message] of cases) {
        it(what, async () => {
            const result = await runProgramError({ ...AWS, ...config });
            assert.strictEqual(result.message, message);
            assert.deepStrictEqual(result.resources, []);
        });
    }

    it("missing aws:region", () => {
        assert.strictEqual(
            configError({ targets: ["aws-ecs"] }),
            "aws:region: got (not set); expected the AWS region to deploy into. Fix: pulumi config set aws:region eu-west-1",
        );
    });

    it("the Fargate table is the documented one", () => {
        assert.deepStrictEqual(FARGATE_SIZES[512], [1024, 2048, 3072, 4096]);
        assert.strictEqual(FARGATE_SIZES[4096].length, 23);
        assert.deepStrictEqual(FARGATE_SIZES[16384].slice(0, 2), [32768, 40960]);
    });
});
