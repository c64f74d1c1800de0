import * as assert from "assert";

import { checkAlbDeletionProtection, checkDeletionProtection, checkHttps, checkLogRetention, checkRegistriesRetained } from "../rules/production";
import { TYPES, isProduction } from "../rules/types";
import type { Value } from "../values";
import { res, stack, unknown } from "./helpers";

const LB = "urn:pulumi:prod::onedigest::aws:lb/loadBalancer:LoadBalancer::alb";
const lb = res(TYPES.loadBalancers[0], "alb", { loadBalancerType: "application", internal: false }, { urn: LB });
const listener = (name: string, props: Record<string, unknown>) => res(TYPES.listeners[0], name, { loadBalancerArn: unknown, ...(props as Record<string, never>) }, { propertyDependencies: { loadBalancerArn: [LB] } });
const forward = [{ type: "forward", targetGroupArn: unknown }];
const redirect = [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }];
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const setting = (namespace: string, name: string, value: string) => ({ namespace, name, value });

describe("production stacks", () => {
    it("are the stacks named prod*, or what the pack config says", () => {
        assert.ok(isProduction(stack("prod")));
        assert.ok(isProduction(stack("prod-eu")));
        assert.ok(!isProduction(stack("dev")));
        assert.ok(!isProduction(stack("preprod")));
        assert.ok(isProduction(stack("live"), "live"));
    });
});

describe("prod-registries-retained", () => {
    it("refuses an ECR repository that deletes its images with it", () => {
        assert.deepStrictEqual(checkRegistriesRetained(res(TYPES.ecr, "ecr", { forceDelete: true })).map((v) => v.message), [
            `aws:ecr/repository:Repository "ecr": forceDelete is true, so deleting the repository deletes every image in it (the rollback history of a production stack). Fix: forceDelete false and the retainOnDelete resource option on production stacks (onedigest: providers/awsShared.ts).`,
        ]);
    });
    it("passes forceDelete false or unset, a protected repository, and what it cannot know", () => {
        for (const props of [{ forceDelete: false }, {}, { forceDelete: unknown }] as Array<Record<string, Value>>) assert.deepStrictEqual(checkRegistriesRetained(res(TYPES.ecr, "ecr", props)), []);
        assert.deepStrictEqual(checkRegistriesRetained(res(TYPES.ecr, "ecr", { forceDelete: true }, { protect: true })), []);
    });
});

describe("prod-deletion-protection and the advisory one for load balancers", () => {
    it("wants Cloud Run's deletionProtection true", () => {
        assert.deepStrictEqual(checkDeletionProtection(res(TYPES.cloudRunV2, "run", { deletionProtection: true })), []);
        assert.deepStrictEqual(checkDeletionProtection(res(TYPES.cloudRunV2, "run", { deletionProtection: unknown })), []);
        assert.strictEqual(
            checkDeletionProtection(res(TYPES.cloudRunV2, "run", { deletionProtection: false }))[0].message,
            `gcp:cloudrunv2/service:Service "run": deletionProtection is false; a production Cloud Run service must set it true. Fix: pulumi config set --path onedigest:cloudrun.deletionProtection true (the default on stacks named prod*).`,
        );
        assert.strictEqual(checkDeletionProtection(res(TYPES.cloudRunV2, "run", {})).length, 1);
    });
    it("advises enableDeletionProtection on load balancers", () => {
        assert.strictEqual(checkAlbDeletionProtection(lb).length, 1);
        assert.deepStrictEqual(checkAlbDeletionProtection(res(TYPES.loadBalancers[1], "alb", { enableDeletionProtection: true })), []);
    });
});

describe("prod-https", () => {
    it("passes HTTPS on 443 with a certificate and HTTP 80 that only redirects", () => {
        assert.deepStrictEqual(checkHttps([lb, listener("https", { port: 443, protocol: "HTTPS", certificateArn: CERT, defaultActions: forward }), listener("http", { port: 80, protocol: "HTTP", defaultActions: redirect })]), []);
    });
    it("refuses a public load balancer without an HTTPS listener, and an HTTP listener that serves", () => {
        const vs = checkHttps([lb, listener("http", { port: 80, protocol: "HTTP", defaultActions: forward })]);
        assert.deepStrictEqual(vs.map((v) => v.urn), [LB, "urn:pulumi:dev::onedigest::aws:lb/listener:Listener::http"]);
        assert.strictEqual(vs[0].message, `aws:lb/loadBalancer:LoadBalancer "alb": no HTTPS listener on 443 with a certificate; every public endpoint of a production stack serves HTTPS. Fix: pulumi config set --path onedigest:ecs.certificateArn <ACM certificate ARN> (and onedigest:ecs.domain).`);
        assert.match(vs[1].message, /"http": defaultActions of the HTTP listener on 80 serve the app instead of redirecting/);
    });
    it("refuses an HTTPS listener without a certificate; leaves internal load balancers alone", () => {
        const vs = checkHttps([lb, listener("https", { port: 443, protocol: "HTTPS", defaultActions: forward })]);
        assert.strictEqual(vs.length, 2);
        assert.match(vs[1].message, /"https": certificateArn is not set on an HTTPS listener/);
        assert.deepStrictEqual(checkHttps([res(TYPES.loadBalancers[0], "inner", { internal: true })]), []);
    });
    it("wants Beanstalk's 443 listener enabled with a certificate", () => {
        const ns = "aws:elbv2:listener:443";
        const on = res(TYPES.beanstalkEnvironment, "env", { settings: [setting(ns, "ListenerEnabled", "true"), setting(ns, "Protocol", "HTTPS"), setting(ns, "SSLCertificateArns", CERT)] });
        assert.deepStrictEqual(checkHttps([on]), []);
        const off = res(TYPES.beanstalkEnvironment, "env", { settings: [setting("aws:autoscaling:asg", "MinSize", "1")] });
        assert.match(checkHttps([off])[0].message, /^aws:elasticbeanstalk\/environment:Environment "env": settings of namespace aws:elbv2:listener:443 do not enable an HTTPS listener/);
        assert.deepStrictEqual(checkHttps([res(TYPES.beanstalkEnvironment, "env", { settings: unknown })]), []);
    });
});

describe("prod-log-retention", () => {
    it("wants a CloudWatch log group's retention set, at least the configured days", () => {
        assert.deepStrictEqual(checkLogRetention(res(TYPES.logGroup, "logs", { retentionInDays: 30 })), []);
        assert.strictEqual(
            checkLogRetention(res(TYPES.logGroup, "logs", {}))[0].message,
            `aws:cloudwatch/logGroup:LogGroup "logs": retentionInDays is not set (kept forever); a production log group keeps its logs a set time, at least 1 day(s). Fix: pulumi config set --path onedigest:ecs.logRetentionDays 30 (one of CloudWatch's retention periods).`,
        );
        assert.strictEqual(checkLogRetention(res(TYPES.logGroup, "logs", { retentionInDays: 7 }), { minDays: 30 }).length, 1);
    });
    it("wants Beanstalk to stream its logs with RetentionInDays", () => {
        const ns = "aws:elasticbeanstalk:cloudwatch:logs";
        assert.deepStrictEqual(checkLogRetention(res(TYPES.beanstalkEnvironment, "env", { settings: [setting(ns, "StreamLogs", "true"), setting(ns, "RetentionInDays", "30")] })), []);
        assert.match(checkLogRetention(res(TYPES.beanstalkEnvironment, "env", { settings: [setting(ns, "StreamLogs", "true")] }))[0].message, /StreamLogs true and RetentionInDays unset/);
        assert.strictEqual(checkLogRetention(res(TYPES.beanstalkEnvironment, "env", { settings: [setting(ns, "StreamLogs", "false"), setting(ns, "RetentionInDays", "30")] })).length, 1);
    });
});
