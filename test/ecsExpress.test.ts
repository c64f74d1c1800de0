/**
 * aws-ecs-express: the inputs of the Express service and its roles as recorded, what it shares with
 * aws-ecs and aws-beanstalk in one stack (one repository, one push, one secret), production
 * retention, the lookups before any resource, and bad settings with their exact messages.
 */
import * as assert from "assert";

import { EXPRESS_SERVICE_NAME, INFRASTRUCTURE_POLICY, endpointUrl, executionPolicy, expressMemorySizes, secretKeyRef } from "../providers/awsEcsExpress";
import { physicalName } from "../providers/names";
import { beforeProgram, configError } from "./helpers";
import { PUSH, hex, inputsOf, invokeError, runProgram, runProgramError, type ProgramRun } from "./mocks";

const AWS = { "aws:region": "eu-west-1" };
const C = "onedigest-aws-ecs-express";
const SERVICE = "aws:ecs/expressGatewayService:ExpressGatewayService";
const BUILT_ID = `sha256:${hex("image-config:onedigest-image")}`;
const region = (ns: string, key: string) => (ns === "aws" && key === "region" ? "eu-west-1" : undefined);

interface Deployments {
    [kind: string]: { url: string; image: string; imageId: string };
}

/** The mocks' ARN of a resource the program leaves to the provider to name (test/mocks.ts). */
const mockArn = (type: string, name: string) => `arn:aws:mock:eu-west-1:123456789012:${type}/${name}`;

describe("aws-ecs-express: the service as recorded", () => {
    let run: ProgramRun;
    let versionId = "";
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-ecs-express"], ...AWS, app: { env: { LOG_LEVEL: "INFO" } } });
        versionId = String(run.mocks.state.get("onedigest-secret-key-value")?.versionId);
    });

    it("runs the pushed image by its ECR digest, with the app's port, health check, sizes and scaling", () => {
        const image = (run.outputs.deployments as Deployments)["aws-ecs-express"].image;
        assert.match(image, /^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/onedigest-test@sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual(inputsOf(run, `${C}-service`), {
            serviceName: "onedigest-test",
            executionRoleArn: mockArn("iam/role", `${C}-execution-role`),
            infrastructureRoleArn: mockArn("iam/role", `${C}-infrastructure-role`),
            cpu: "256",
            memory: "512",
            healthCheckPath: "/healthcheck",
            primaryContainer: {
                image,
                containerPort: 8080,
                environments: [
                    { name: "IMAGE_ID", value: BUILT_ID },
                    { name: "LOG_LEVEL", value: "INFO" },
                    { name: "PORT", value: "8080" },
                    { name: "PROXY_FIX_COUNT", value: "1" },
                ],
                secrets: [{ name: "SECRET_KEY", valueFrom: `${mockArn("secretsmanager/secret", "onedigest-secret-key-secret")}:::${versionId}` }],
                awsLogsConfigurations: [{ logGroup: "/onedigest/onedigest-test-express", logStreamPrefix: "app" }],
            },
            scalingTargets: [{ autoScalingMetric: "AVERAGE_CPU", autoScalingTargetValue: 60, minTaskCount: 2, maxTaskCount: 4 }],
            waitForSteadyState: true,
        });
        assert.match(versionId, /^[0-9a-f]{8}-/, "the secret's version, as Secrets Manager gives it");
    });

    it("exports the HTTPS endpoint Express made as url, the digest as image, the built ID as imageId", () => {
        const d = (run.outputs.deployments as Deployments)["aws-ecs-express"];
        assert.strictEqual(d.url, `https://on-${hex("onedigest-test").slice(0, 32)}.ecs.eu-west-1.on.aws`);
        assert.strictEqual(d.imageId, BUILT_ID);
        assert.strictEqual(run.outputs.url, d.url);
    });

    it("the execution role may pull from this repository, write this log group and read this secret, nothing else", () => {
        assert.deepStrictEqual(JSON.parse(String(inputsOf(run, `${C}-execution-role`).assumeRolePolicy)), {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
        });
        const access = inputsOf(run, `${C}-execution-access`);
        assert.strictEqual(access.role, `${C}-execution-role-id`);
        assert.deepStrictEqual(JSON.parse(String(access.policy)), {
            Version: "2012-10-17",
            Statement: [
                { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
                { Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: ["arn:aws:ecr:eu-west-1:123456789012:repository/onedigest-ecr-repository"] },
                { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${mockArn("cloudwatch/logGroup", `${C}-logs`)}:log-stream:*`] },
                { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [mockArn("secretsmanager/secret", "onedigest-secret-key-secret")] },
            ],
        });
        assert.deepStrictEqual(inputsOf(run, `${C}-logs`), { name: "/onedigest/onedigest-test-express", retentionInDays: 30 });
    });

    it("the infrastructure role is ECS's, with AWS's managed policy for Express services and no other", () => {
        assert.deepStrictEqual(JSON.parse(String(inputsOf(run, `${C}-infrastructure-role`).assumeRolePolicy)), {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "ecs.amazonaws.com" }, Action: "sts:AssumeRole" }],
        });
        assert.strictEqual(INFRASTRUCTURE_POLICY, "arn:aws:iam::aws:policy/service-role/AmazonECSInfrastructureRoleforExpressGatewayServices");
        const attachments = run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        assert.deepStrictEqual(
            attachments.map((a) => [a.name, a.inputs.role, a.inputs.policyArn]),
            [[`${C}-infrastructure-policy`, "onedigest-test-express-infrastructure", INFRASTRUCTURE_POLICY]],
        );
        assert.deepStrictEqual(
            run.ofType("aws:iam/role:Role").map((r) => r.inputs.name),
            ["onedigest-test-express-execution", "onedigest-test-express-infrastructure"],
        );
    });

    it("the service depends on both roles' policies (removed after it, so its deletion does not stick in DRAINING) and on the push", () => {
        const deps = run.mocks.dependencies.get(`${C}-service`) ?? [];
        for (const name of [`${C}-execution-access`, `${C}-infrastructure-policy`, "onedigest-ecr-registry-push"]) assert.ok(deps.includes(name), `${name} not in ${deps.join(", ")}`);
    });

    it("SECRET_KEY only by reference: not in the environment, not plain anywhere", () => {
        const service = run.ofType(SERVICE)[0];
        const env = (inputsOf(run, service.name).primaryContainer as { environments: Array<{ name: string }> }).environments.map((e) => e.name);
        assert.ok(!env.includes("SECRET_KEY"));
        assert.ok(!JSON.stringify(service.inputs).includes("test-secret-key"));
    });

    it("no FORCE_HTTPS and no CANONICAL_HOST: Express's load balancer serves HTTPS only, on a host Express makes", () => {
        const env = (inputsOf(run, `${C}-service`).primaryContainer as { environments: Array<{ name: string }> }).environments.map((e) => e.name);
        assert.ok(!env.includes("FORCE_HTTPS"));
        assert.ok(!env.includes("CANONICAL_HOST"));
    });

    it("every resource is a child of the component; the service name keeps Express's limit", () => {
        for (const r of run.mocks.resources.filter((x) => x.name.startsWith(`${C}-`))) assert.strictEqual(run.mocks.parents.get(r.name), C, r.name);
        const long = `a${"b".repeat(30)}z`;
        assert.strictEqual(physicalName([long, "s".repeat(300)], EXPRESS_SERVICE_NAME).length, 255);
    });

    it("an app.env FORCE_HTTPS=1 is left out: the app would refuse to start without a CANONICAL_HOST", async () => {
        const on = await runProgram({ targets: ["aws-ecs-express"], ...AWS, app: { env: { FORCE_HTTPS: "1" } } });
        const env = (inputsOf(on, `${C}-service`).primaryContainer as { environments: Array<{ name: string; value: string }> }).environments;
        assert.strictEqual(env.find((e) => e.name === "FORCE_HTTPS"), undefined);
    });
});

describe("aws-ecs-express: settings reach the service", () => {
    it("sizes, scaling on requests, and a network of its own", async () => {
        const run = await runProgram({
            targets: ["aws-ecs-express"],
            ...AWS,
            ecsExpress: {
                cpu: 1024,
                memory: 3072,
                minTasks: 1,
                maxTasks: 12,
                scalingMetric: "REQUEST_COUNT_PER_TARGET",
                scalingTarget: 500,
                subnetIds: ["subnet-0123456789abcdefa", "subnet-0123456789abcdefb"],
                securityGroupIds: ["sg-0123456789abcdef0"],
                logRetentionDays: 90,
            },
        });
        const service = inputsOf(run, `${C}-service`);
        assert.deepStrictEqual([service.cpu, service.memory], ["1024", "3072"]);
        assert.deepStrictEqual(service.scalingTargets, [{ autoScalingMetric: "REQUEST_COUNT_PER_TARGET", autoScalingTargetValue: 500, minTaskCount: 1, maxTaskCount: 12 }]);
        assert.deepStrictEqual(service.networkConfigurations, [{ subnets: ["subnet-0123456789abcdefa", "subnet-0123456789abcdefb"], securityGroups: ["sg-0123456789abcdef0"] }]);
        assert.strictEqual(inputsOf(run, `${C}-logs`).retentionInDays, 90);
        // The subnets were looked up before any resource (their zones and VPC), not the default VPC.
        const asked = run.mocks.invokes.filter((i) => i.token.startsWith("aws:ec2/")).map((i) => [i.token, i.inputs.id]);
        assert.deepStrictEqual(asked, [
            ["aws:ec2/getSubnet:getSubnet", "subnet-0123456789abcdefa"],
            ["aws:ec2/getSubnet:getSubnet", "subnet-0123456789abcdefb"],
        ]);
    });

    it("a rotated key is a new version in valueFrom (a new revision, so tasks read it); the same secret", async () => {
        const refOf = async (secretKey: string) => {
            const run = await runProgram({ targets: ["aws-ecs-express"], ...AWS, secretKey });
            return (inputsOf(run, `${C}-service`).primaryContainer as { secrets: Array<{ valueFrom: string }> }).secrets[0].valueFrom;
        };
        const [first, second] = [await refOf("first-key-0123456789abcdef"), await refOf("second-key-0123456789abcdef")];
        assert.notStrictEqual(first, second);
        assert.strictEqual(first.split(":::")[0], second.split(":::")[0]);
    });
});

describe("aws-ecs-express with aws-ecs and aws-beanstalk: one repository, one push, one secret", () => {
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-ecs", "aws-ecs-express", "aws-beanstalk"], ...AWS });
    });

    it("pushes once into the one repository, and all three run that push's digest", () => {
        assert.strictEqual(run.ofType("aws:ecr/repository:Repository").length, 1);
        const pushes = run.ofType(PUSH);
        assert.strictEqual(pushes.length, 1);
        const ref = String(run.mocks.state.get(pushes[0].name)?.ref);
        const images = Object.values(run.outputs.deployments as Deployments).map((d) => d.image);
        assert.deepStrictEqual(images, [ref, ref, ref]);
        assert.strictEqual((inputsOf(run, `${C}-service`).primaryContainer as { image: string }).image, ref);
    });

    it("reads SECRET_KEY from the one secret", () => {
        assert.strictEqual(run.ofType("aws:secretsmanager/secret:Secret").length, 1);
        const secret = mockArn("secretsmanager/secret", "onedigest-secret-key-secret");
        const express = (inputsOf(run, `${C}-service`).primaryContainer as { secrets: Array<{ valueFrom: string }> }).secrets[0].valueFrom;
        assert.ok(express.startsWith(`${secret}:::`), express);
        const [ecsContainer] = JSON.parse(String(run.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions)) as Array<{ secrets: Array<{ valueFrom: string }> }>;
        assert.strictEqual(ecsContainer.secrets[0].valueFrom, express);
    });

    it("names nothing twice: roles and log groups of each target are their own", () => {
        for (const type of ["aws:iam/role:Role", "aws:cloudwatch/logGroup:LogGroup"]) {
            const names = run.ofType(type).map((r) => String(r.inputs.name));
            assert.strictEqual(new Set(names).size, names.length, `${type}: ${names.join(", ")}`);
        }
    });
});

describe("aws-ecs-express in production: retention as for aws-ecs", () => {
    const found = {
        "aws:ecr/getRepository:getRepository": (inputs: Record<string, unknown>) => ({ name: inputs.name, repositoryUrl: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${String(inputs.name)}` }),
        "aws:secretsmanager/getSecret:getSecret": () => ({ arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:onedigest-prod-secret-key-AbCdEf", name: "onedigest-prod-secret-key" }),
    };

    it("the repository and the secret outlive destroy; the next up adopts them", async () => {
        const fresh = await runProgram({ targets: ["aws-ecs-express"], ...AWS }, { stack: "prod" });
        for (const name of ["onedigest-ecr-repository", "onedigest-secret-key-secret"]) {
            assert.strictEqual(fresh.mocks.lifecycle.get(name)?.retainOnDelete, true, name);
            assert.strictEqual(fresh.mocks.lifecycle.get(name)?.importId, "", name);
        }
        assert.strictEqual(fresh.mocks.lifecycle.get(`${C}-service`)?.retainOnDelete, false);
        const again = await runProgram({ targets: ["aws-ecs-express"], ...AWS }, { stack: "prod", invokes: found });
        assert.strictEqual(again.mocks.lifecycle.get("onedigest-ecr-repository")?.importId, "onedigest-prod");
        assert.strictEqual(again.mocks.lifecycle.get("onedigest-secret-key-secret")?.importId, found["aws:secretsmanager/getSecret:getSecret"]().arn);
    });

    it("outside production nothing is looked up for adoption", async () => {
        const run = await runProgram({ targets: ["aws-ecs-express"], ...AWS }, { stack: "staging" });
        assert.ok(!run.mocks.invokes.some((i) => i.token === "aws:ecr/getRepository:getRepository" || i.token === "aws:secretsmanager/getSecret:getSecret"));
        assert.strictEqual(run.mocks.lifecycle.get("onedigest-ecr-repository")?.retainOnDelete, false);
    });
});

describe("aws-ecs-express: the network is checked before any resource", () => {
    it("subnets all in one zone", async () => {
        const { message, resources } = await runProgramError(
            { targets: ["aws-ecs-express"], ...AWS, ecsExpress: { subnetIds: ["subnet-0123456789abcdefa", "subnet-0123456789abcdefa"], securityGroupIds: ["sg-0123456789abcdef0"] } },
        );
        assert.strictEqual(
            message,
            "onedigest:ecsExpress.subnetIds: got [\"subnet-0123456789abcdefa\",\"subnet-0123456789abcdefa\"]; expected subnets in at least two availability zones (these are all in eu-west-1a). Fix: pulumi config rm --path onedigest:ecsExpress.subnetIds && pulumi config set --path 'onedigest:ecsExpress.subnetIds[0]' subnet-0123456789abcdef0 && pulumi config set --path 'onedigest:ecsExpress.subnetIds[1]' subnet-0123456789abcdef1",
        );
        assert.deepStrictEqual(resources.filter((r) => !r.type.startsWith("pulumi:providers:")), []);
    });

    it("subnets of two VPCs", async () => {
        const { message } = await runProgramError(
            { targets: ["aws-ecs-express"], ...AWS, ecsExpress: { subnetIds: ["subnet-0123456789abcdefa", "subnet-0123456789abcdefb"], securityGroupIds: ["sg-0123456789abcdef0"] } },
            { invokes: { "aws:ec2/getSubnet:getSubnet": (inputs) => ({ id: inputs.id, availabilityZone: `eu-west-1${String(inputs.id).slice(-1)}`, vpcId: `vpc-0${String(inputs.id).slice(-1)}` }) } },
        );
        assert.match(message, /^onedigest:ecsExpress\.subnetIds: got .*; expected subnets of one VPC \(these are in vpc-0a, vpc-0b\)\. Fix: /);
    });

    it("no default VPC and no subnets", async () => {
        const { message, resources } = await runProgramError({ targets: ["aws-ecs-express"], ...AWS }, { invokes: { "aws:ec2/getVpcs:getVpcs": () => ({ ids: [] }) } });
        assert.strictEqual(
            message,
            "onedigest:ecsExpress.subnetIds: got (not set); expected subnets in two availability zones with their security groups (this account has no default VPC in eu-west-1, which Express uses otherwise). Fix: pulumi config rm --path onedigest:ecsExpress.subnetIds && pulumi config set --path 'onedigest:ecsExpress.subnetIds[0]' subnet-0123456789abcdef0 && pulumi config set --path 'onedigest:ecsExpress.subnetIds[1]' subnet-0123456789abcdef1 && pulumi config rm --path onedigest:ecsExpress.securityGroupIds && pulumi config set --path 'onedigest:ecsExpress.securityGroupIds[0]' sg-0123456789abcdef0",
        );
        assert.deepStrictEqual(resources.filter((r) => !r.type.startsWith("pulumi:providers:")), []);
    });

    it("a lookup that fails for another reason stops the run naming it", async () => {
        const { message } = await runProgramError({ targets: ["aws-ecs-express"], ...AWS }, { invokes: { "aws:ec2/getVpcs:getVpcs": () => { throw invokeError("UnauthorizedOperation: You are not authorized to perform this operation."); } } });
        assert.match(message, /UnauthorizedOperation/);
    });
});

describe("aws-ecs-express: bad settings, exact messages", () => {
    const bad = (ecsExpress: Record<string, unknown>, extra: Record<string, unknown> = {}) => configError({ targets: ["aws-ecs-express"], ecsExpress, ...extra }, { providerConfig: region });

    it("cpu Express does not take", () => {
        assert.strictEqual(bad({ cpu: 768 }), "onedigest:ecsExpress.cpu: got 768; expected CPU units Express takes: one of 256, 512, 1024, 2048, 4096. Fix: pulumi config set --path onedigest:ecsExpress.cpu 256");
        assert.strictEqual(bad({ cpu: 8192 }), "onedigest:ecsExpress.cpu: got 8192; expected an integer from 256 to 4096. Fix: pulumi config set --path onedigest:ecsExpress.cpu 256");
    });

    it("memory not sized for the cpu, or above Express's 8192", () => {
        assert.strictEqual(bad({ cpu: 256, memory: 4096 }), "onedigest:ecsExpress.memory: got 4096; expected a memory size for cpu 256: one of 512, 1024, 2048. Fix: pulumi config set --path onedigest:ecsExpress.memory 512");
        assert.strictEqual(bad({ cpu: 4096, memory: 16384 }), "onedigest:ecsExpress.memory: got 16384; expected an integer from 512 to 8192. Fix: pulumi config set --path onedigest:ecsExpress.memory 512");
        assert.deepStrictEqual(expressMemorySizes(4096), [8192]);
        assert.deepStrictEqual(expressMemorySizes(2048), [4096, 5120, 6144, 7168, 8192]);
    });

    it("task counts the wrong way round", () => {
        assert.strictEqual(bad({ minTasks: 5, maxTasks: 3 }), "onedigest:ecsExpress.minTasks: got 5; expected at most maxTasks (3). Fix: pulumi config set --path onedigest:ecsExpress.minTasks 3");
    });

    it("a metric Express does not scale on; a target outside the metric's range", () => {
        assert.strictEqual(bad({ scalingMetric: "LATENCY" }), "onedigest:ecsExpress.scalingMetric: got \"LATENCY\"; expected one of AVERAGE_CPU, AVERAGE_MEMORY, REQUEST_COUNT_PER_TARGET. Fix: pulumi config set --path onedigest:ecsExpress.scalingMetric AVERAGE_CPU");
        assert.strictEqual(bad({ scalingTarget: 500 }), "onedigest:ecsExpress.scalingTarget: got 500; expected an integer from 10 to 95. Fix: pulumi config set --path onedigest:ecsExpress.scalingTarget 60");
        assert.strictEqual(bad({ scalingMetric: "REQUEST_COUNT_PER_TARGET", scalingTarget: 0 }), "onedigest:ecsExpress.scalingTarget: got 0; expected an integer from 1 to 100000. Fix: pulumi config set --path onedigest:ecsExpress.scalingTarget 1000");
    });

    it("subnets without security groups, one subnet, and security groups alone", () => {
        assert.strictEqual(
            bad({ subnetIds: ["subnet-0123456789abcdefa", "subnet-0123456789abcdefb"] }),
            "onedigest:ecsExpress.securityGroupIds: got (not set); expected the tasks' security groups in the VPC of subnetIds, set together with subnetIds. Fix: pulumi config rm --path onedigest:ecsExpress.securityGroupIds && pulumi config set --path 'onedigest:ecsExpress.securityGroupIds[0]' sg-0123456789abcdef0",
        );
        assert.strictEqual(
            bad({ subnetIds: ["subnet-0123456789abcdefa"], securityGroupIds: ["sg-0123456789abcdef0"] }),
            "onedigest:ecsExpress.subnetIds: got [\"subnet-0123456789abcdefa\"]; expected at least two subnets in different availability zones (Express's load balancer needs two). Fix: pulumi config rm --path onedigest:ecsExpress.subnetIds && pulumi config set --path 'onedigest:ecsExpress.subnetIds[0]' subnet-0123456789abcdef0 && pulumi config set --path 'onedigest:ecsExpress.subnetIds[1]' subnet-0123456789abcdef1",
        );
        assert.strictEqual(
            bad({ securityGroupIds: ["sg-0123456789abcdef0"] }),
            "onedigest:ecsExpress.subnetIds: got (not set); expected the subnets of those security groups' VPC, set together with securityGroupIds. Fix: pulumi config rm --path onedigest:ecsExpress.subnetIds && pulumi config set --path 'onedigest:ecsExpress.subnetIds[0]' subnet-0123456789abcdef0 && pulumi config set --path 'onedigest:ecsExpress.subnetIds[1]' subnet-0123456789abcdef1",
        );
        assert.strictEqual(
            bad({ subnetIds: ["subnet-0123456789abcdefa", "net-b"], securityGroupIds: ["sg-0123456789abcdef0"] }),
            "onedigest:ecsExpress.subnetIds[1]: got \"net-b\"; expected a subnet ID (subnet-…). Fix: pulumi config set --path 'onedigest:ecsExpress.subnetIds[1]' subnet-0123456789abcdef0",
        );
    });

    it("an unknown field, a missing region, an arm64 image", () => {
        assert.strictEqual(bad({ desiredCount: 2 }), "onedigest:ecsExpress.desiredCount: got 2; expected one of the fields cpu, memory, minTasks, maxTasks, scalingMetric, scalingTarget, subnetIds, securityGroupIds, logRetentionDays, keepImages. Fix: pulumi config rm --path onedigest:ecsExpress.desiredCount");
        assert.strictEqual(configError({ targets: ["aws-ecs-express"] }), "aws:region: got (not set); expected the AWS region to deploy into. Fix: pulumi config set aws:region eu-west-1");
        assert.strictEqual(
            configError({ targets: ["aws-ecs-express"], image: { platform: "linux/arm64" } }, { providerConfig: region }),
            "onedigest:image.platform: got \"linux/arm64\"; expected a platform target aws-ecs-express runs: linux/amd64. Fix: pulumi config set --path onedigest:image.platform linux/amd64",
        );
    });

    it("several problems are reported together", () => {
        assert.match(bad({ cpu: 300, minTasks: 0, logRetentionDays: 2 }), /^3 configuration problems:\nonedigest:ecsExpress\.cpu: .*\nonedigest:ecsExpress\.minTasks: .*\nonedigest:ecsExpress\.logRetentionDays: /);
    });
});

describe("aws-ecs-express: the pure parts", () => {
    it("endpointUrl: the PUBLIC endpoint, its scheme kept, https:// given to a bare host, no trailing slash", () => {
        assert.strictEqual(endpointUrl([{ accessType: "PRIVATE", endpoint: "https://pr-1.ecs.eu-west-1.on.aws" }, { accessType: "PUBLIC", endpoint: "https://on-2.ecs.eu-west-1.on.aws/" }]), "https://on-2.ecs.eu-west-1.on.aws");
        assert.strictEqual(endpointUrl([{ accessType: "PUBLIC", endpoint: "on-3.ecs.eu-west-1.on.aws" }]), "https://on-3.ecs.eu-west-1.on.aws");
        assert.strictEqual(endpointUrl([{ accessType: "PRIVATE", endpoint: "https://pr-4.ecs.eu-west-1.on.aws" }]), "https://pr-4.ecs.eu-west-1.on.aws");
        assert.throws(() => endpointUrl([]), /^Error: aws-ecs-express: the Express service reports no ingress endpoint$/);
        assert.throws(() => endpointUrl(undefined), /reports no ingress endpoint/);
    });

    it("secretKeyRef and executionPolicy", () => {
        assert.deepStrictEqual(secretKeyRef("arn:aws:secretsmanager:eu-west-1:1:secret:s-AbC", "v-1"), { name: "SECRET_KEY", valueFrom: "arn:aws:secretsmanager:eu-west-1:1:secret:s-AbC:::v-1" });
        const policy = JSON.parse(executionPolicy({ repositoryArn: "R", logGroupArn: "L", secretArn: "S" })) as { Statement: Array<{ Resource: string[] }> };
        assert.deepStrictEqual(policy.Statement.map((s) => s.Resource), [["*"], ["R"], ["L:log-stream:*"], ["S"]]);
    });
});
