/**
 * no-public-ingress: nothing is open to the whole internet (0.0.0.0/0, ::/0) but a load
 * balancer's own security group, and that only on the allowed ports (80 and 443 by default).
 */
import { asNumber, asString, field, isUnknown, items, named, type Resource, type Value } from "../values";
import { TYPES, type Violation } from "./types";

export interface IngressConfig {
    /** Ports a load balancer may take from anywhere. @default [80, 443] */
    readonly allowedPorts: readonly number[];
}
export const DEFAULT_INGRESS: IngressConfig = { allowedPorts: [80, 443] };

const WORLD = ["0.0.0.0/0", "::/0"];

interface Opening {
    readonly resource: Resource;
    readonly path: string;
    readonly cidr: string;
    readonly protocol: string;
    readonly from: number | undefined;
    readonly to: number | undefined;
    /** The security group it opens: a URN (from the property's dependencies) or an ID. */
    readonly group: readonly string[];
}

function groupRefs(r: Resource, prop: string): string[] {
    const refs = [...(r.propertyDependencies[prop] ?? [])];
    const id = asString(r.props[prop]);
    if (id) refs.push(id);
    return refs;
}

/** Every world-open ingress a resource declares. */
export function openings(r: Resource): Opening[] {
    const out: Opening[] = [];
    const rule = (path: string, v: Value, cidrs: Array<[string, Value | undefined]>, group: string[]) => {
        for (const [key, cidrValue] of cidrs) {
            const list = Array.isArray(cidrValue) ? items(cidrValue) : [cidrValue];
            for (const c of list) {
                const cidr = asString(c);
                if (cidr === undefined || !WORLD.includes(cidr)) continue;
                out.push({
                    resource: r,
                    path: `${path}${key}`,
                    cidr,
                    protocol: String(asString(field(v, "ipProtocol")) ?? asString(field(v, "protocol")) ?? ""),
                    from: asNumber(field(v, "fromPort")),
                    to: asNumber(field(v, "toPort")),
                    group,
                });
            }
        }
    };
    const p = r.props as Value;
    if (r.type === TYPES.ingressRule) {
        rule("", p, [["cidrIpv4", field(p, "cidrIpv4")], ["cidrIpv6", field(p, "cidrIpv6")]], groupRefs(r, "securityGroupId"));
    } else if (r.type === TYPES.securityGroupRule && asString(field(p, "type")) === "ingress") {
        rule("", p, [["cidrBlocks", field(p, "cidrBlocks")], ["ipv6CidrBlocks", field(p, "ipv6CidrBlocks")]], groupRefs(r, "securityGroupId"));
    } else if (r.type === TYPES.securityGroup) {
        const ingress = r.props.ingress;
        if (!isUnknown(ingress)) {
            items(ingress).forEach((entry, i) =>
                rule(`ingress[${i}].`, entry, [["cidrBlocks", field(entry, "cidrBlocks")], ["ipv6CidrBlocks", field(entry, "ipv6CidrBlocks")]], [r.urn]),
            );
        }
    }
    return out;
}

/** The security groups (URNs and IDs) some load balancer of the stack is in. */
export function loadBalancerGroups(resources: readonly Resource[]): Set<string> {
    const groups = new Set<string>();
    for (const r of resources) {
        if (!(TYPES.loadBalancers as readonly string[]).includes(r.type)) continue;
        for (const urn of r.propertyDependencies.securityGroups ?? []) groups.add(urn);
        for (const id of items(r.props.securityGroups)) {
            const text = asString(id);
            if (text) groups.add(text);
        }
    }
    return groups;
}

function ports(o: Opening): string {
    const all = ["-1", "all"].includes(o.protocol.toLowerCase());
    if (all) return "every port (protocol -1)";
    return o.from === o.to ? `${o.protocol} ${o.from}` : `${o.protocol} ${o.from}-${o.to}`;
}

export function checkNoPublicIngress(resources: readonly Resource[], config: IngressConfig = DEFAULT_INGRESS): Violation[] {
    const lbGroups = loadBalancerGroups(resources);
    const out: Violation[] = [];
    for (const r of resources) {
        for (const o of openings(r)) {
            const oneAllowedPort = o.protocol.toLowerCase() === "tcp" && o.from !== undefined && o.from === o.to && config.allowedPorts.includes(o.from);
            const loadBalancers = o.group.some((g) => lbGroups.has(g));
            if (oneAllowedPort && loadBalancers) continue;
            const why = !oneAllowedPort
                ? `only ${config.allowedPorts.join(" and ")} (tcp, one port a rule) may be open to the world`
                : "its security group belongs to no load balancer of this stack";
            out.push({
                urn: r.urn,
                message: `${named(r)}: ${o.path} opens ${ports(o)} to ${o.cidr}; ${why}. Fix: admit a referencedSecurityGroupId (the load balancer's) or a narrower CIDR${!oneAllowedPort ? ", or list the port in the pack config's no-public-ingress.allowedPorts" : ""}.`,
            });
        }
    }
    return out;
}
