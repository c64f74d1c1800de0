/**
 * EC2 networking: `aws:ec2/securityGroup:SecurityGroup`, `aws:vpc/securityGroupIngressRule:…` and
 * `…EgressRule:…`, and the `getVpcs` / `getSubnets` / `getSubnet` invokes. Each region has a
 * default VPC (172.31.0.0/16) with one default subnet in each of three zones, made the first time a
 * region is asked about (a test that wants a region without one marks it seeded in
 * `ec2.seededRegions` first).
 */
import { CloudError, type ForceNew, type InvokeFn, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { ACCOUNT_ID, arn, autoName, hexId, refuse, regionOf, required, stableHex, str, type Call } from "./common";

const SECURITY_GROUP = "internal/service/ec2/vpc_security_group.go";
/** aws_vpc_security_group_ingress_rule and _egress_rule share this file's schema (securityGroupRuleResource). */
const SECURITY_GROUP_RULE = "internal/service/ec2/vpc_security_group_ingress_rule.go";
const ERRORS = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html";

export const RULES = {
    groupName: {
        rule: "a security group name is unique within its VPC",
        error: { status: 400, code: "InvalidGroup.Duplicate", message: "The security group '{name}' already exists for VPC '{vpc}'" },
        source: `${ERRORS} (InvalidGroup.Duplicate: a security group with the same name as an existing one in the same VPC)`,
    },
    vpcNotFound: {
        rule: "a security group is made in an existing VPC",
        error: { status: 400, code: "InvalidVpcID.NotFound", message: "The vpc ID '{vpc}' does not exist" },
        source: `${ERRORS} (InvalidVpcID.NotFound)`,
    },
    groupNotFound: {
        rule: "a rule is added to an existing security group",
        error: { status: 400, code: "InvalidGroup.NotFound", message: "The security group '{group}' does not exist" },
        source: `${ERRORS} (InvalidGroup.NotFound)`,
    },
    duplicateRule: {
        rule: "a security group holds a rule once: the same protocol, ports and peer cannot be added again",
        error: { status: 400, code: "InvalidPermission.Duplicate", message: 'the specified rule "peer: {peer}, {protocol}, from port: {from}, to port: {to}, ALLOW" already exists' },
        source: `${ERRORS} (InvalidPermission.Duplicate: the specified rule already exists in the security group)`,
    },
    dependencyViolation: {
        rule: "a security group that another group's rule references cannot be deleted",
        error: { status: 400, code: "DependencyViolation", message: "resource {group} has a dependent object" },
        source: `${ERRORS} (DependencyViolation: the object has dependent resources); ${SECURITY_GROUP} resourceSecurityGroupDelete (retries DependencyViolation, then fails)`,
    },
} as const satisfies Record<string, Rule>;

export const SECURITY_GROUP_FORCE_NEW: readonly ForceNew[] = [
    { field: "description", source: `${SECURITY_GROUP}:71` },
    { field: "name", source: `${SECURITY_GROUP}:81` },
    { field: "namePrefix", source: `${SECURITY_GROUP}:92` },
    { field: "vpcId", source: `${SECURITY_GROUP}:113` },
];
export const RULE_FORCE_NEW: readonly ForceNew[] = [{ field: "securityGroupId", source: `${SECURITY_GROUP_RULE}:220 (stringplanmodifier.RequiresReplace)` }];

export const VPCS = "ec2.vpcs";
export const SUBNETS = "ec2.subnets";
export const SEEDED = "ec2.seededRegions";
export const SECURITY_GROUPS = "ec2.securityGroups";
export const SECURITY_GROUP_RULES = "ec2.securityGroupRules";

export interface VpcRecord extends Props {
    id: string;
    region: string;
    isDefault: boolean;
    cidrBlock: string;
}
export interface SubnetRecord extends Props {
    id: string;
    region: string;
    vpcId: string;
    availabilityZone: string;
    defaultForAz: boolean;
    cidrBlock: string;
}
export interface GroupRecord extends Props {
    id: string;
    region: string;
    vpcId: string;
    name: string;
}
export interface RuleRecord extends Props {
    id: string;
    groupId: string;
    egress: boolean;
    protocol: string;
    fromPort?: number;
    toPort?: number;
    peer: string;
}

/** The region's default VPC and subnets, made once. */
function network(op: Op, region: string): { vpcs: Record<string, VpcRecord>; subnets: Record<string, SubnetRecord> } {
    const vpcs = op.db.table<VpcRecord>(VPCS);
    const subnets = op.db.table<SubnetRecord>(SUBNETS);
    const seeded = op.db.table(SEEDED);
    if (!seeded[region]) {
        seeded[region] = { at: new Date(op.now()).toISOString() };
        const vpcId = `vpc-${stableHex(`default-vpc:${region}`, 17)}`;
        vpcs[vpcId] = { id: vpcId, region, isDefault: true, cidrBlock: "172.31.0.0/16" };
        ["a", "b", "c"].forEach((zone, i) => {
            const id = `subnet-${stableHex(`default-subnet:${region}${zone}`, 17)}`;
            subnets[id] = { id, region, vpcId, availabilityZone: `${region}${zone}`, defaultForAz: true, cidrBlock: `172.31.${i * 16}.0/20` };
        });
    }
    return { vpcs, subnets };
}

type Filter = { name: string; values: string[] };

function filtersOf(args: Props): Filter[] {
    return Array.isArray(args.filters) ? (args.filters as Filter[]) : [];
}

/** Applies EC2 Describe* filters; a filter the fake does not know fails loudly. */
function matches(record: Props, filters: Filter[], fields: Readonly<Record<string, (r: Props) => string>>, token: string): boolean {
    return filters.every((f) => {
        const field = fields[f.name];
        if (!field) throw new Error(`${token}: the fake answers only the filters ${Object.keys(fields).join(", ")}, not ${f.name}`);
        return f.values.includes(field(record));
    });
}

export const getVpcs: InvokeFn = (op, args) => {
    const region = regionOf(op, args);
    const { vpcs } = network(op, region);
    const fields = { "is-default": (r: Props) => String(r.isDefault), "vpc-id": (r: Props) => String(r.id) };
    const ids = Object.values(vpcs).filter((v) => v.region === region && matches(v, filtersOf(args), fields, "aws:ec2/getVpcs")).map((v) => v.id);
    return { filters: args.filters ?? [], id: region, ids, region, tags: args.tags ?? {} };
};

const SUBNET_FIELDS = {
    "vpc-id": (r: Props) => String(r.vpcId),
    "default-for-az": (r: Props) => String(r.defaultForAz),
    "availability-zone": (r: Props) => String(r.availabilityZone),
    "subnet-id": (r: Props) => String(r.id),
};

export const getSubnets: InvokeFn = (op, args) => {
    const region = regionOf(op, args);
    const { subnets } = network(op, region);
    const ids = Object.values(subnets).filter((s) => s.region === region && matches(s, filtersOf(args), SUBNET_FIELDS, "aws:ec2/getSubnets")).map((s) => s.id);
    return { filters: args.filters ?? [], id: region, ids, region, tags: args.tags ?? {} };
};

export const getSubnet: InvokeFn = (op, args) => {
    const region = regionOf(op, args);
    const { subnets } = network(op, region);
    const id = str(args, "id");
    const found = Object.values(subnets).filter((s) => s.region === region && (id === undefined || s.id === id) && matches(s, filtersOf(args), SUBNET_FIELDS, "aws:ec2/getSubnet"));
    // The data source's own message (internal/service/ec2/vpc_subnet_data_source.go: tfresource.SingularDataSourceFindError).
    if (found.length !== 1) throw new CloudError(0, "provider", found.length === 0 ? "reading EC2 Subnet: empty result" : `reading EC2 Subnet: too many results: wanted 1, got ${found.length}`);
    const s = found[0];
    return {
        arn: arn("ec2", region, `subnet/${s.id}`),
        availabilityZone: s.availabilityZone,
        availabilityZoneId: `euw1-az${s.availabilityZone.slice(-1) === "a" ? 1 : s.availabilityZone.slice(-1) === "b" ? 2 : 3}`,
        cidrBlock: s.cidrBlock,
        defaultForAz: s.defaultForAz,
        filters: args.filters ?? [],
        id: s.id,
        mapPublicIpOnLaunch: s.defaultForAz,
        ownerId: ACCOUNT_ID,
        region,
        state: "available",
        tags: {},
        vpcId: s.vpcId,
    };
};

export const securityGroup: ResourceModule = {
    type: "aws:ec2/securityGroup:SecurityGroup",
    forceNew: SECURITY_GROUP_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const { vpcs } = network(op, region);
        const vpcId = str(inputs, "vpcId") ?? Object.values(vpcs).find((v) => v.region === region && v.isDefault)?.id ?? "";
        const name = str(inputs, "name") ?? autoName(op);
        const call: Call = { subject: `Security Group (${name})`, service: "EC2", operation: "CreateSecurityGroup" };
        if (!vpcs[vpcId] || vpcs[vpcId].region !== region) throw refuse(RULES.vpcNotFound, call, { vpc: vpcId });
        const groups = op.db.table<GroupRecord>(SECURITY_GROUPS);
        if (Object.values(groups).some((g) => g.vpcId === vpcId && g.name === name)) throw refuse(RULES.groupName, call, { name, vpc: vpcId });
        const id = `sg-${hexId(9).slice(0, 17)}`;
        groups[id] = { id, region, vpcId, name };
        return {
            id,
            outs: {
                ...inputs,
                arn: arn("ec2", region, `security-group/${id}`),
                // The provider's default description (pulumi-aws sets it to "Managed by Pulumi").
                description: inputs.description ?? "Managed by Pulumi",
                egress: [],
                ingress: [],
                name,
                namePrefix: "",
                ownerId: ACCOUNT_ID,
                region,
                revokeRulesOnDelete: inputs.revokeRulesOnDelete ?? false,
                tags: inputs.tags ?? {},
                tagsAll: inputs.tags ?? {},
                vpcId,
            },
        };
    },
    read(op, id, state) {
        return op.db.table(SECURITY_GROUPS)[id] ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, id) {
        const groups = op.db.table<GroupRecord>(SECURITY_GROUPS);
        if (!groups[id]) return;
        const referenced = Object.values(op.db.table<RuleRecord>(SECURITY_GROUP_RULES)).some((r) => r.groupId !== id && r.peer === id);
        if (referenced) throw refuse(RULES.dependencyViolation, { subject: `Security Group (${id})`, service: "EC2", operation: "DeleteSecurityGroup" }, { group: id });
        for (const [ruleId, rule] of Object.entries(op.db.table<RuleRecord>(SECURITY_GROUP_RULES))) if (rule.groupId === id) delete op.db.table(SECURITY_GROUP_RULES)[ruleId];
        delete groups[id];
    },
};

function peerOf(inputs: Props): string {
    return str(inputs, "cidrIpv4") ?? str(inputs, "cidrIpv6") ?? str(inputs, "referencedSecurityGroupId") ?? str(inputs, "prefixListId") ?? "";
}

function ruleRecord(id: string, inputs: Props, egress: boolean): RuleRecord {
    return {
        id,
        groupId: str(inputs, "securityGroupId") ?? "",
        egress,
        protocol: String(inputs.ipProtocol ?? ""),
        fromPort: typeof inputs.fromPort === "number" ? inputs.fromPort : undefined,
        toPort: typeof inputs.toPort === "number" ? inputs.toPort : undefined,
        peer: peerOf(inputs),
    };
}

function sameRule(a: RuleRecord, b: RuleRecord): boolean {
    return a.groupId === b.groupId && a.egress === b.egress && a.protocol === b.protocol && a.fromPort === b.fromPort && a.toPort === b.toPort && a.peer === b.peer;
}

function groupRule(egress: boolean): ResourceModule {
    const kind = egress ? "Egress" : "Ingress";
    const operation = egress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroupIngress";
    const type = `aws:vpc/securityGroup${kind}Rule:SecurityGroup${kind}Rule`;
    const refuseDuplicate = (table: Record<string, RuleRecord>, record: RuleRecord, call: Call): void => {
        if (Object.values(table).some((r) => r.id !== record.id && sameRule(r, record))) {
            throw refuse(RULES.duplicateRule, call, { peer: record.peer, protocol: record.protocol.toUpperCase(), from: record.fromPort ?? -1, to: record.toPort ?? -1 });
        }
    };
    return {
        type,
        forceNew: RULE_FORCE_NEW,
        create(op, inputs) {
            const region = regionOf(op, inputs);
            const groupId = required(inputs, "securityGroupId", type);
            const call: Call = { subject: "VPC Security Group Rule", service: "EC2", operation };
            if (!op.db.table(SECURITY_GROUPS)[groupId]) throw refuse(RULES.groupNotFound, call, { group: groupId });
            const id = `sgr-${hexId(9).slice(0, 17)}`;
            const table = op.db.table<RuleRecord>(SECURITY_GROUP_RULES);
            const record = ruleRecord(id, inputs, egress);
            refuseDuplicate(table, record, call);
            table[id] = record;
            return { id, outs: { ...inputs, arn: arn("ec2", region, `security-group-rule/${id}`), region, securityGroupRuleId: id, tags: inputs.tags ?? {}, tagsAll: inputs.tags ?? {} } };
        },
        read(op, id, state) {
            return op.db.table(SECURITY_GROUP_RULES)[id] ? state : undefined;
        },
        update(op, id, olds, news) {
            const table = op.db.table<RuleRecord>(SECURITY_GROUP_RULES);
            const record = ruleRecord(id, news, egress);
            refuseDuplicate(table, record, { subject: `VPC Security Group Rule (${id})`, service: "EC2", operation: "ModifySecurityGroupRules" });
            table[id] = record;
            return { ...olds, ...news };
        },
        delete(op, id) {
            delete op.db.table(SECURITY_GROUP_RULES)[id];
        },
    };
}

export const securityGroupIngressRule = groupRule(false);
export const securityGroupEgressRule = groupRule(true);
