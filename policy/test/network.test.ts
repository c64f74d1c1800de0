import * as assert from "assert";

import { checkNoPublicIngress } from "../rules/network";
import { TYPES } from "../rules/types";
import { res, unknown } from "./helpers";

const SG = "urn:pulumi:dev::onedigest::aws:ec2/securityGroup:SecurityGroup::alb-sg";
const TASK_SG = "urn:pulumi:dev::onedigest::aws:ec2/securityGroup:SecurityGroup::task-sg";
const lb = res(TYPES.loadBalancers[0], "alb", { securityGroups: [unknown], loadBalancerType: "application" }, { propertyDependencies: { securityGroups: [SG] } });
const rule = (name: string, props: Record<string, unknown>, group = SG) =>
    res(TYPES.ingressRule, name, { securityGroupId: unknown, ipProtocol: "tcp", ...(props as Record<string, never>) }, { propertyDependencies: { securityGroupId: [group] } });

describe("no-public-ingress", () => {
    it("passes the load balancer's 80 and 443 from anywhere, v4 and v6, and anything from a security group", () => {
        const resources = [
            lb,
            rule("in-80-v4", { fromPort: 80, toPort: 80, cidrIpv4: "0.0.0.0/0" }),
            rule("in-443-v6", { fromPort: 443, toPort: 443, cidrIpv6: "::/0" }),
            rule("task-in", { fromPort: 8080, toPort: 8080, referencedSecurityGroupId: unknown }, TASK_SG),
            rule("office", { fromPort: 22, toPort: 22, cidrIpv4: "203.0.113.0/24" }, TASK_SG),
        ];
        assert.deepStrictEqual(checkNoPublicIngress(resources), []);
    });

    it("refuses another port open to the world, with the rule, the property and the fix", () => {
        const vs = checkNoPublicIngress([lb, rule("ssh", { fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" })]);
        assert.deepStrictEqual(vs.map((v) => v.message), [
            `aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule "ssh": cidrIpv4 opens tcp 22 to 0.0.0.0/0; only 80 and 443 (tcp, one port a rule) may be open to the world. Fix: admit a referencedSecurityGroupId (the load balancer's) or a narrower CIDR, or list the port in the pack config's no-public-ingress.allowedPorts.`,
        ]);
        assert.strictEqual(vs[0].urn, "urn:pulumi:dev::onedigest::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::ssh");
    });

    it("refuses 80 from the world into a group no load balancer is in (the tasks')", () => {
        const vs = checkNoPublicIngress([lb, rule("task-open", { fromPort: 80, toPort: 80, cidrIpv6: "::/0" }, TASK_SG)]);
        assert.strictEqual(vs.length, 1);
        assert.match(vs[0].message, /cidrIpv6 opens tcp 80 to ::\/0; its security group belongs to no load balancer of this stack/);
    });

    it("refuses port ranges and every-protocol rules, even on the load balancer", () => {
        assert.match(checkNoPublicIngress([lb, rule("range", { fromPort: 80, toPort: 443, cidrIpv4: "0.0.0.0/0" })])[0].message, /opens tcp 80-443/);
        assert.match(checkNoPublicIngress([lb, rule("all", { ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" })])[0].message, /opens every port \(protocol -1\)/);
    });

    it("reads inline ingress of a security group and security group rules", () => {
        const inline = res(TYPES.securityGroup, "open-sg", { ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"] }] });
        const sgRule = res(TYPES.securityGroupRule, "sg-rule", { type: "ingress", protocol: "tcp", fromPort: 443, toPort: 443, ipv6CidrBlocks: ["::/0"], securityGroupId: "sg-0123" });
        const egress = res(TYPES.securityGroupRule, "sg-out", { type: "egress", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], securityGroupId: "sg-0123" });
        const msgs = checkNoPublicIngress([inline, sgRule, egress]).map((v) => v.message);
        assert.strictEqual(msgs.length, 2);
        assert.match(msgs[0], /"open-sg": ingress\[0\]\.cidrBlocks opens tcp 5432 to 0\.0\.0\.0\/0/);
        assert.match(msgs[1], /"sg-rule": ipv6CidrBlocks opens tcp 443 to ::\/0; its security group belongs to no load balancer/);
        const lbById = res(TYPES.loadBalancers[0], "alb", { securityGroups: ["sg-0123"] });
        assert.deepStrictEqual(checkNoPublicIngress([lbById, sgRule, egress]), [], "a group named by ID in the load balancer's securityGroups");
    });

    it("takes the allowed ports from the pack config", () => {
        const alt = rule("alt", { fromPort: 8443, toPort: 8443, cidrIpv4: "0.0.0.0/0" });
        assert.strictEqual(checkNoPublicIngress([lb, alt]).length, 1);
        assert.deepStrictEqual(checkNoPublicIngress([lb, alt], { allowedPorts: [443, 8443] }), []);
        assert.strictEqual(checkNoPublicIngress([lb, rule("in-80", { fromPort: 80, toPort: 80, cidrIpv4: "0.0.0.0/0" })], { allowedPorts: [443] }).length, 1);
    });
});
