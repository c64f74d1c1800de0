/**
 * Elastic Load Balancing v2: `aws:lb/loadBalancer:LoadBalancer`, `aws:lb/targetGroup:TargetGroup`
 * and `aws:lb/listener:Listener`. A listener's forward actions associate their target groups with
 * its load balancer (`loadBalancerArns`), which is what ECS checks a service's target group against.
 */
import { type ForceNew, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { arn, autoName, hexId, refuse, regionOf, required, str, type Call } from "./common";

const LOAD_BALANCER = "internal/service/elbv2/load_balancer.go";
const TARGET_GROUP = "internal/service/elbv2/target_group.go";
const LISTENER = "internal/service/elbv2/listener.go";
const API = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference";

export const RULES = {
    loadBalancerName: {
        rule: "a load balancer name is unique per account and region (the provider looks it up before CreateLoadBalancer, which would return an existing one with the same settings)",
        error: { status: 0, code: "provider", message: "creating ELBv2 application Load Balancer ({name}): ELBv2 Load Balancer ({name}) already exists" },
        source: `${LOAD_BALANCER}:355; ${API}/API_CreateLoadBalancer.html (names unique per Region per account)`,
    },
    targetGroupName: {
        rule: "a target group name is unique per account and region (the provider looks it up before CreateTargetGroup)",
        error: { status: 0, code: "provider", message: "creating ELBv2 Target Group ({name}): ELBv2 Target Group ({name}) already exists" },
        source: `${TARGET_GROUP}:427; ${API}/API_CreateTargetGroup.html (names unique per Region per account)`,
    },
    duplicateListener: {
        rule: "a load balancer has one listener per port",
        error: { status: 400, code: "DuplicateListener", message: "A listener with the specified port already exists." },
        source: `${API}/API_CreateListener.html (Errors: DuplicateListener)`,
    },
    loadBalancerNotFound: {
        rule: "a listener is made on an existing load balancer",
        error: { status: 400, code: "LoadBalancerNotFound", message: "The specified load balancer does not exist." },
        source: `${API}/API_CreateListener.html (Errors: LoadBalancerNotFound)`,
    },
    targetGroupNotFound: {
        rule: "a listener forwards to existing target groups",
        error: { status: 400, code: "TargetGroupNotFound", message: "The specified target group does not exist." },
        source: `${API}/API_CreateListener.html (Errors: TargetGroupNotFound)`,
    },
    targetGroupInUse: {
        rule: "a target group that a listener forwards to cannot be deleted",
        error: { status: 400, code: "ResourceInUse", message: "A specified resource is in use." },
        source: `${API}/API_DeleteTargetGroup.html ("You can delete a target group if it is not referenced by any actions"; Errors: ResourceInUse)`,
    },
} as const satisfies Record<string, Rule>;

export const LOAD_BALANCER_FORCE_NEW: readonly ForceNew[] = [
    { field: "customerOwnedIpv4Pool", source: `${LOAD_BALANCER}:143` },
    { field: "internal", source: `${LOAD_BALANCER}:220` },
    { field: "loadBalancerType", source: `${LOAD_BALANCER}:231` },
    { field: "name", source: `${LOAD_BALANCER}:240` },
    { field: "namePrefix", source: `${LOAD_BALANCER}:248` },
];
export const TARGET_GROUP_FORCE_NEW: readonly ForceNew[] = [
    { field: "ipAddressType", source: `${TARGET_GROUP}:156` },
    { field: "name", source: `${TARGET_GROUP}:191` },
    { field: "namePrefix", source: `${TARGET_GROUP}:199` },
    { field: "port", source: `${TARGET_GROUP}:206` },
    { field: "protocol", source: `${TARGET_GROUP}:220` },
    { field: "protocolVersion", source: `${TARGET_GROUP}:228` },
    { field: "targetType", source: `${TARGET_GROUP}:388` },
    { field: "vpcId", source: `${TARGET_GROUP}:394` },
];
export const LISTENER_FORCE_NEW: readonly ForceNew[] = [{ field: "loadBalancerArn", source: `${LISTENER}:343` }];

export const LOAD_BALANCERS = "elbv2.loadBalancers";
export const TARGET_GROUPS = "elbv2.targetGroups";
export const LISTENERS = "elbv2.listeners";

export interface LoadBalancerRecord extends Props {
    arn: string;
    name: string;
    region: string;
    dnsName: string;
}
export interface TargetGroupRecord extends Props {
    arn: string;
    name: string;
    region: string;
    loadBalancerArns: string[];
}
export interface ListenerRecord extends Props {
    arn: string;
    loadBalancerArn: string;
    port: number;
    targetGroupArns: string[];
}

/** Hosted zone IDs of ALBs by region (the AWS General Reference's Elastic Load Balancing endpoints). */
const ALB_ZONES: Readonly<Record<string, string>> = { "eu-west-1": "Z32O12XQLNTSW2", "us-east-1": "Z35SXDOTRQ7X7K", "eu-central-1": "Z215JYRZR1TBD5" };

function elbCall(operation: string, subject: string): Call {
    return { subject, service: "Elastic Load Balancing v2", operation };
}

export const loadBalancer: ResourceModule = {
    type: "aws:lb/loadBalancer:LoadBalancer",
    forceNew: LOAD_BALANCER_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = str(inputs, "name") ?? autoName(op, 32);
        const table = op.db.table<LoadBalancerRecord>(LOAD_BALANCERS);
        if (Object.values(table).some((lb) => lb.region === region && lb.name === name)) throw refuse(RULES.loadBalancerName, elbCall("CreateLoadBalancer", name), { name });
        const type = str(inputs, "loadBalancerType") ?? "application";
        const short = type === "network" ? "net" : "app";
        const id = hexId(8);
        const lbArn = arn("elasticloadbalancing", region, `loadbalancer/${short}/${name}/${id}`);
        const internal = inputs.internal === true;
        const dnsName = `${internal ? "internal-" : ""}${name}-${parseInt(id.slice(0, 8), 16) % 10_000_000_000}.${region}.elb.amazonaws.com`;
        table[lbArn] = { arn: lbArn, name, region, dnsName };
        const subnets = Array.isArray(inputs.subnets) ? (inputs.subnets as string[]) : [];
        const vpcId = Object.values(op.db.table("ec2.subnets")).find((s) => subnets.includes(String(s.id)))?.vpcId ?? "";
        return {
            id: lbArn,
            outs: {
                ...inputs,
                arn: lbArn,
                arnSuffix: `${short}/${name}/${id}`,
                dnsName,
                enableDeletionProtection: inputs.enableDeletionProtection ?? false,
                idleTimeout: inputs.idleTimeout ?? 60,
                internal,
                ipAddressType: inputs.ipAddressType ?? "ipv4",
                loadBalancerType: type,
                name,
                region,
                subnetMappings: subnets.map((subnetId) => ({ subnetId, allocationId: "", ipv6Address: "", outpostId: "", privateIpv4Address: "" })),
                tags: inputs.tags ?? {},
                tagsAll: inputs.tags ?? {},
                vpcId,
                zoneId: ALB_ZONES[region] ?? "Z32O12XQLNTSW2",
            },
        };
    },
    read(op, id, state) {
        return op.db.table(LOAD_BALANCERS)[id] ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, id) {
        // DeleteLoadBalancer deletes its listeners too (API_DeleteLoadBalancer.html).
        const listeners = op.db.table<ListenerRecord>(LISTENERS);
        for (const [key, listener] of Object.entries(listeners)) {
            if (listener.loadBalancerArn === id) {
                detach(op, listener);
                delete listeners[key];
            }
        }
        delete op.db.table(LOAD_BALANCERS)[id];
    },
};

export const targetGroup: ResourceModule = {
    type: "aws:lb/targetGroup:TargetGroup",
    forceNew: TARGET_GROUP_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = str(inputs, "name") ?? autoName(op, 32);
        const table = op.db.table<TargetGroupRecord>(TARGET_GROUPS);
        if (Object.values(table).some((tg) => tg.region === region && tg.name === name)) throw refuse(RULES.targetGroupName, elbCall("CreateTargetGroup", name), { name });
        const id = hexId(8);
        const tgArn = arn("elasticloadbalancing", region, `targetgroup/${name}/${id}`);
        table[tgArn] = { arn: tgArn, name, region, loadBalancerArns: [] };
        const healthCheck = { enabled: true, healthyThreshold: 3, interval: 30, matcher: "200", path: "/", port: "traffic-port", protocol: "HTTP", timeout: 5, unhealthyThreshold: 3, ...((inputs.healthCheck as Props | undefined) ?? {}) };
        return {
            id: tgArn,
            outs: {
                ...inputs,
                arn: tgArn,
                arnSuffix: `targetgroup/${name}/${id}`,
                deregistrationDelay: inputs.deregistrationDelay ?? 300,
                healthCheck,
                ipAddressType: inputs.ipAddressType ?? "ipv4",
                loadBalancerArns: [],
                name,
                protocolVersion: inputs.protocolVersion ?? "HTTP1",
                region,
                tags: inputs.tags ?? {},
                tagsAll: inputs.tags ?? {},
                targetType: inputs.targetType ?? "instance",
            },
        };
    },
    read(op, id, state) {
        const record = op.db.table<TargetGroupRecord>(TARGET_GROUPS)[id];
        return record ? { ...state, loadBalancerArns: [...record.loadBalancerArns] } : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, id) {
        const inUse = Object.values(op.db.table<ListenerRecord>(LISTENERS)).some((l) => l.targetGroupArns.includes(id));
        if (inUse) throw refuse(RULES.targetGroupInUse, elbCall("DeleteTargetGroup", `ELBv2 Target Group (${id})`));
        delete op.db.table(TARGET_GROUPS)[id];
    },
};

/** The target groups a listener's actions forward to: `targetGroupArn` and `forward.targetGroups[].arn`. */
function forwardedGroups(inputs: Props): string[] {
    const actions = Array.isArray(inputs.defaultActions) ? (inputs.defaultActions as Props[]) : [];
    return actions.flatMap((a) => {
        const direct = typeof a.targetGroupArn === "string" ? [a.targetGroupArn] : [];
        const forward = (a.forward as { targetGroups?: Array<{ arn: string }> } | undefined)?.targetGroups?.map((t) => t.arn) ?? [];
        return [...direct, ...forward];
    });
}

function detach(op: Op, listener: ListenerRecord): void {
    const groups = op.db.table<TargetGroupRecord>(TARGET_GROUPS);
    for (const tgArn of listener.targetGroupArns) {
        const stillUsed = Object.values(op.db.table<ListenerRecord>(LISTENERS)).some((l) => l.arn !== listener.arn && l.loadBalancerArn === listener.loadBalancerArn && l.targetGroupArns.includes(tgArn));
        if (groups[tgArn] && !stillUsed) groups[tgArn].loadBalancerArns = groups[tgArn].loadBalancerArns.filter((a) => a !== listener.loadBalancerArn);
    }
}

function attach(op: Op, listener: ListenerRecord, call: Call): void {
    const groups = op.db.table<TargetGroupRecord>(TARGET_GROUPS);
    for (const tgArn of listener.targetGroupArns) {
        const group = groups[tgArn];
        if (!group) throw refuse(RULES.targetGroupNotFound, call);
        if (!group.loadBalancerArns.includes(listener.loadBalancerArn)) group.loadBalancerArns.push(listener.loadBalancerArn);
    }
}

export const listener: ResourceModule = {
    type: "aws:lb/listener:Listener",
    forceNew: LISTENER_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const lbArn = required(inputs, "loadBalancerArn", "aws:lb/listener:Listener");
        const call = elbCall("CreateListener", `ELBv2 Listener (${lbArn})`);
        const lb = op.db.table<LoadBalancerRecord>(LOAD_BALANCERS)[lbArn];
        if (!lb) throw refuse(RULES.loadBalancerNotFound, call);
        const port = typeof inputs.port === "number" ? inputs.port : 80;
        const listeners = op.db.table<ListenerRecord>(LISTENERS);
        if (Object.values(listeners).some((l) => l.loadBalancerArn === lbArn && l.port === port)) throw refuse(RULES.duplicateListener, call);
        const lbPath = lbArn.slice(lbArn.indexOf(":loadbalancer/") + ":loadbalancer/".length);
        const listenerArn = arn("elasticloadbalancing", region, `listener/${lbPath}/${hexId(8)}`);
        const record: ListenerRecord = { arn: listenerArn, loadBalancerArn: lbArn, port, targetGroupArns: forwardedGroups(inputs) };
        attach(op, record, call);
        listeners[listenerArn] = record;
        return { id: listenerArn, outs: { ...inputs, arn: listenerArn, port, protocol: str(inputs, "protocol") ?? "HTTP", region, sslPolicy: inputs.sslPolicy ?? "", tags: inputs.tags ?? {}, tagsAll: inputs.tags ?? {} } };
    },
    read(op, id, state) {
        return op.db.table(LISTENERS)[id] ? state : undefined;
    },
    update(op, id, olds, news) {
        const listeners = op.db.table<ListenerRecord>(LISTENERS);
        const record = listeners[id];
        const port = typeof news.port === "number" ? news.port : 80;
        const call = elbCall("ModifyListener", `ELBv2 Listener (${id})`);
        if (Object.values(listeners).some((l) => l.arn !== id && l.loadBalancerArn === record.loadBalancerArn && l.port === port)) throw refuse(RULES.duplicateListener, call);
        detach(op, record);
        record.port = port;
        record.targetGroupArns = forwardedGroups(news);
        attach(op, record, call);
        return { ...olds, ...news, port };
    },
    delete(op, id) {
        const listeners = op.db.table<ListenerRecord>(LISTENERS);
        const record = listeners[id];
        if (!record) return;
        delete listeners[id];
        detach(op, record);
    },
};
