/**
 * IAM (global, per account): `aws:iam/role:Role`, `aws:iam/rolePolicy:RolePolicy`,
 * `aws:iam/rolePolicyAttachment:RolePolicyAttachment` and `aws:iam/instanceProfile:InstanceProfile`.
 * A role record holds its attached managed policies and inline policies, so deleting a role that
 * still has them fails as IAM's DeleteRole does.
 */
import { type ForceNew, type Props, type ResourceModule, type Rule } from "../framework";
import { ACCOUNT_ID, autoName, hexId, refuse, required, str, type Call } from "./common";

const ROLE = "internal/service/iam/role.go";
const ROLE_POLICY = "internal/service/iam/role_policy.go";
const ATTACHMENT = "internal/service/iam/role_policy_attachment.go";
const PROFILE = "internal/service/iam/instance_profile.go";

export const RULES = {
    entityExists: {
        rule: "a role or instance profile name is unique per account",
        error: { status: 409, code: "EntityAlreadyExists", message: "The request was rejected because it attempted to create a resource that already exists." },
        source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html and API_CreateInstanceProfile.html (Errors: EntityAlreadyExists)",
    },
    deleteConflict: {
        rule: "a role with attached managed policies or inline policies cannot be deleted until they are detached (the provider detaches them itself only when its state lists them or force_detach_policies is set, and retries DeleteConflict for its propagation timeout)",
        error: {
            status: 409,
            code: "DeleteConflict",
            message: "The request was rejected because it attempted to delete a resource that has attached subordinate entities. The error message describes these entities.",
        },
        source: `https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html ("you must delete the items attached to the role manually, or the deletion fails"; Errors: DeleteConflict); ${ROLE} deleteRole`,
    },
    noSuchEntity: {
        rule: "a policy can be attached to or put on an existing role only",
        error: { status: 404, code: "NoSuchEntity", message: "The request was rejected because it referenced a resource entity that does not exist. The error message describes the resource." },
        source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html and API_PutRolePolicy.html (Errors: NoSuchEntity)",
    },
} as const satisfies Record<string, Rule>;

export const ROLE_FORCE_NEW: readonly ForceNew[] = [
    { field: "name", source: `${ROLE}:175` },
    { field: "namePrefix", source: `${ROLE}:183` },
    { field: "path", source: `${ROLE}:191` },
];
export const ROLE_POLICY_FORCE_NEW: readonly ForceNew[] = [
    { field: "name", source: `${ROLE_POLICY}:55` },
    { field: "namePrefix", source: `${ROLE_POLICY}:63` },
    { field: "role", source: `${ROLE_POLICY}:81` },
];
export const ATTACHMENT_FORCE_NEW: readonly ForceNew[] = [
    { field: "policyArn", source: `${ATTACHMENT}:45` },
    { field: "role", source: `${ATTACHMENT}:51` },
];
export const PROFILE_FORCE_NEW: readonly ForceNew[] = [
    { field: "name", source: `${PROFILE}:61` },
    { field: "namePrefix", source: `${PROFILE}:69` },
    { field: "path", source: `${PROFILE}:77` },
];

export const ROLES = "iam.roles";
export const PROFILES = "iam.instanceProfiles";

export interface RoleRecord extends Props {
    name: string;
    arn: string;
    uniqueId: string;
    assumeRolePolicy: string;
    attached: string[];
    inline: Record<string, string>;
    createDate: string;
}

export interface ProfileRecord extends Props {
    name: string;
    arn: string;
    role?: string;
}

/** IAM's unique IDs: a four-letter prefix by kind (AROA role, AIPA instance profile) and 17 more. */
function uniqueId(prefix: string): string {
    return `${prefix}${hexId(9).toUpperCase().slice(0, 17)}`;
}

function iamCall(operation: string, subject: string): Call {
    return { subject, service: "IAM", operation };
}

export const role: ResourceModule = {
    type: "aws:iam/role:Role",
    forceNew: ROLE_FORCE_NEW,
    create(op, inputs) {
        const name = str(inputs, "name") ?? autoName(op, 64);
        const table = op.db.table<RoleRecord>(ROLES);
        if (table[name]) throw refuse(RULES.entityExists, iamCall("CreateRole", `IAM Role (${name})`));
        const path = str(inputs, "path") ?? "/";
        const record: RoleRecord = {
            name,
            arn: `arn:aws:iam::${ACCOUNT_ID}:role${path}${name}`,
            uniqueId: uniqueId("AROA"),
            assumeRolePolicy: required(inputs, "assumeRolePolicy", "aws:iam/role:Role"),
            attached: [],
            inline: {},
            createDate: new Date(op.now()).toISOString(),
        };
        table[name] = record;
        return { id: name, outs: roleOutputs(inputs, record, { attached: false }) };
    },
    read(op, id, state) {
        const record = op.db.table<RoleRecord>(ROLES)[id];
        // A refresh reads what is attached now, as the provider's Read sets managed_policy_arns.
        return record ? { ...state, ...roleOutputs(state, record, { attached: true }) } : undefined;
    },
    update(op, id, _olds, news) {
        const record = op.db.table<RoleRecord>(ROLES)[id];
        record.assumeRolePolicy = required(news, "assumeRolePolicy", "aws:iam/role:Role");
        return roleOutputs(news, record, { attached: false });
    },
    delete(op, id, state) {
        const table = op.db.table<RoleRecord>(ROLES);
        const record = table[id];
        if (!record) return;
        // The provider first takes the role out of its instance profiles, and detaches what its
        // state lists (or everything with force_detach_policies) — ROLE: deleteRole.
        for (const profile of Object.values(op.db.table<ProfileRecord>(PROFILES))) if (profile.role === id) delete profile.role;
        // Either one listed is enough for it to list and remove all of that kind.
        const force = state.forceDetachPolicies === true;
        if (force || (Array.isArray(state.managedPolicyArns) && state.managedPolicyArns.length > 0)) record.attached = [];
        if (force || (Array.isArray(state.inlinePolicies) && state.inlinePolicies.length > 0)) record.inline = {};
        if (record.attached.length > 0 || Object.keys(record.inline).length > 0) throw refuse(RULES.deleteConflict, iamCall("DeleteRole", `IAM Role (${id})`));
        delete table[id];
    },
};

function roleOutputs(inputs: Props, record: RoleRecord, opts: { attached: boolean }): Props {
    return {
        ...inputs,
        arn: record.arn,
        assumeRolePolicy: record.assumeRolePolicy,
        createDate: record.createDate,
        description: inputs.description ?? "",
        forceDetachPolicies: inputs.forceDetachPolicies ?? false,
        inlinePolicies: opts.attached ? Object.entries(record.inline).map(([name, policy]) => ({ name, policy })) : (inputs.inlinePolicies ?? []),
        managedPolicyArns: opts.attached ? [...record.attached] : (inputs.managedPolicyArns ?? []),
        maxSessionDuration: inputs.maxSessionDuration ?? 3600,
        name: record.name,
        namePrefix: "",
        path: inputs.path ?? "/",
        permissionsBoundary: inputs.permissionsBoundary ?? "",
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
        uniqueId: record.uniqueId,
    };
}

function roleOf(op: Parameters<ResourceModule["create"]>[0], name: string, call: Call): RoleRecord {
    const record = op.db.table<RoleRecord>(ROLES)[name];
    if (!record) throw refuse(RULES.noSuchEntity, call);
    return record;
}

export const rolePolicy: ResourceModule = {
    type: "aws:iam/rolePolicy:RolePolicy",
    forceNew: ROLE_POLICY_FORCE_NEW,
    create(op, inputs) {
        const roleName = required(inputs, "role", "aws:iam/rolePolicy:RolePolicy");
        const name = str(inputs, "name") ?? autoName(op, 128);
        const record = roleOf(op, roleName, iamCall("PutRolePolicy", `IAM Role (${roleName}) Policy (${name})`));
        record.inline[name] = required(inputs, "policy", "aws:iam/rolePolicy:RolePolicy");
        return { id: `${roleName}:${name}`, outs: { ...inputs, name, namePrefix: "", role: roleName } };
    },
    read(op, id, state) {
        const [roleName, name] = id.split(":");
        return op.db.table<RoleRecord>(ROLES)[roleName]?.inline[name] !== undefined ? state : undefined;
    },
    update(op, id, olds, news) {
        const [roleName, name] = id.split(":");
        roleOf(op, roleName, iamCall("PutRolePolicy", `IAM Role (${roleName}) Policy (${name})`)).inline[name] = required(news, "policy", "aws:iam/rolePolicy:RolePolicy");
        return { ...olds, ...news, name };
    },
    delete(op, id) {
        const [roleName, name] = id.split(":");
        const record = op.db.table<RoleRecord>(ROLES)[roleName];
        if (record) delete record.inline[name];
    },
};

export const rolePolicyAttachment: ResourceModule = {
    type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    forceNew: ATTACHMENT_FORCE_NEW,
    create(op, inputs) {
        const roleName = required(inputs, "role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        const policyArn = required(inputs, "policyArn", "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        const record = roleOf(op, roleName, iamCall("AttachRolePolicy", `IAM Role (${roleName}) Policy (${policyArn})`));
        if (!record.attached.includes(policyArn)) record.attached.push(policyArn);
        return { id: `${roleName}/${policyArn}`, outs: { ...inputs } };
    },
    read(op, _id, state) {
        return op.db.table<RoleRecord>(ROLES)[String(state.role)]?.attached.includes(String(state.policyArn)) ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, _id, state) {
        const record = op.db.table<RoleRecord>(ROLES)[String(state.role)];
        if (record) record.attached = record.attached.filter((a) => a !== state.policyArn);
    },
};

export const instanceProfile: ResourceModule = {
    type: "aws:iam/instanceProfile:InstanceProfile",
    forceNew: PROFILE_FORCE_NEW,
    create(op, inputs) {
        const name = str(inputs, "name") ?? autoName(op, 128);
        const table = op.db.table<ProfileRecord>(PROFILES);
        if (table[name]) throw refuse(RULES.entityExists, iamCall("CreateInstanceProfile", `IAM Instance Profile (${name})`));
        const roleName = str(inputs, "role");
        if (roleName) roleOf(op, roleName, iamCall("AddRoleToInstanceProfile", `IAM Instance Profile (${name})`));
        const record: ProfileRecord = { name, arn: `arn:aws:iam::${ACCOUNT_ID}:instance-profile${str(inputs, "path") ?? "/"}${name}`, role: roleName };
        table[name] = record;
        return { id: name, outs: profileOutputs(op, inputs, record) };
    },
    read(op, id, state) {
        const record = op.db.table<ProfileRecord>(PROFILES)[id];
        return record ? { ...state, role: record.role ?? "" } : undefined;
    },
    update(op, id, olds, news) {
        const record = op.db.table<ProfileRecord>(PROFILES)[id];
        const roleName = str(news, "role");
        if (roleName) roleOf(op, roleName, iamCall("AddRoleToInstanceProfile", `IAM Instance Profile (${id})`));
        record.role = roleName;
        return { ...olds, ...news, role: roleName ?? "" };
    },
    delete(op, id) {
        delete op.db.table<ProfileRecord>(PROFILES)[id];
    },
};

function profileOutputs(op: Parameters<ResourceModule["create"]>[0], inputs: Props, record: ProfileRecord): Props {
    return {
        ...inputs,
        arn: record.arn,
        createDate: new Date(op.now()).toISOString(),
        name: record.name,
        namePrefix: "",
        path: inputs.path ?? "/",
        role: record.role ?? "",
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
        uniqueId: uniqueId("AIPA"),
    };
}
