/**
 * IAM service accounts: `gcp:serviceaccount/account:Account`. An account ID is unique among a
 * project's live accounts. A deleted account is kept for 30 days, when it can be undeleted with
 * its identity and roles; creating an account with the same ID meanwhile is allowed and makes a
 * new identity (another uniqueId) that inherits none of the old one's roles
 * (https://cloud.google.com/iam/docs/service-accounts-delete-undelete). Google documents no
 * period during which a deleted ID cannot be reused, so the fake holds none: it keeps the deleted
 * account (DELETED_TABLE) so a test can see which identity a name had. Records by
 * `<project>/<accountId>`.
 */
import { createHash } from "crypto";

import { CloudError, isUnknown, type ForceNew, type Props, type ResourceModule, type Rule } from "../framework";
import { GoogleError, projectOf, requireService, str } from "./common";

const FILE = "google/services/resourcemanager/resource_google_service_account.go";
export const TABLE = "iam.serviceAccounts";
export const DELETED_TABLE = "iam.deletedServiceAccounts";
const API = "iam.googleapis.com";
/** How long a deleted account can be undeleted (the page above). */
export const UNDELETE_DAYS = 30;

const FORCE_NEW: readonly ForceNew[] = [
    { field: "accountId", source: `${FILE}:93` },
    { field: "project", source: `${FILE}:118` },
];

export const RULES = {
    accountIdLength: {
        rule: "an account ID is 6-30 characters long",
        error: { status: 0, code: "provider", message: '"account_id" ("{accountId}") must be between 6 and 30 characters long' },
        source: `${FILE}:94 (verify.ValidateRFC1035Name(6, 30)), google/verify/validation.go:176`,
    },
    accountIdPattern: {
        rule: "an account ID is an RFC 1035 label: a lowercase letter first, then lowercase letters, digits and '-', not ending in '-'",
        error: { status: 0, code: "provider", message: '"account_id" ("{accountId}") must match regex "^[a-z]([-a-z0-9]*[a-z0-9])?$"' },
        source: `${FILE}:94, google/verify/validation.go:180`,
    },
    uniqueId: {
        rule: "an account ID is unique among the project's accounts",
        error: { status: 409, code: "ALREADY_EXISTS", message: "Service account {accountId} already exists within project projects/{project}." },
        source: `${FILE}:169 (the API's 409 for an existing account) and ${FILE}:191 (the provider's prefix); https://cloud.google.com/iam/docs/service-accounts-create (the ID is unique within the project)`,
    },
} as const satisfies Record<string, Rule>;

const ACCOUNT_ID = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** What the provider's validation says about an account ID, one message per broken rule. */
function accountIdProblems(accountId: string): string[] {
    const broken: Rule[] = [];
    if (accountId.length < 6 || accountId.length > 30) broken.push(RULES.accountIdLength);
    if (!ACCOUNT_ID.test(accountId)) broken.push(RULES.accountIdPattern);
    return broken.map((rule) => CloudError.of(rule, { accountId }).message);
}

export interface AccountRecord extends Props {
    project: string;
    accountId: string;
    email: string;
    uniqueId: string;
    disabled: boolean;
}

/** A 21-digit unique ID, different for every account ever created under a name. */
function uniqueId(seed: string): string {
    const n = BigInt(`0x${createHash("sha256").update(seed).digest("hex").slice(0, 18)}`) % 10n ** 20n;
    return `1${String(n).padStart(20, "0")}`;
}

function outputs(record: AccountRecord, inputs: Props): Props {
    const { project, accountId, email } = record;
    return {
        ...inputs,
        project,
        accountId,
        email,
        member: `serviceAccount:${email}`,
        name: `projects/${project}/serviceAccounts/${email}`,
        uniqueId: record.uniqueId,
        disabled: record.disabled,
        displayName: str(inputs, "displayName") ?? "",
        description: str(inputs, "description") ?? "",
    };
}

export const account: ResourceModule = {
    type: "gcp:serviceaccount/account:Account",
    forceNew: FORCE_NEW,
    check(inputs) {
        const id = str(inputs, "accountId");
        return id === undefined || isUnknown(id) ? [] : accountIdProblems(id).map((reason) => ({ property: "accountId", reason }));
    },
    create(op, inputs) {
        const project = projectOf(op, inputs);
        requireService(op.db, project, API);
        const accountId = str(inputs, "accountId") ?? "";
        const problems = accountIdProblems(accountId);
        if (problems.length > 0) throw new CloudError(0, "provider", problems.join("; "));
        const accounts = op.db.table<AccountRecord>(TABLE);
        const key = `${project}/${accountId}`;
        const email = `${accountId}@${project}.iam.gserviceaccount.com`;
        if (accounts[key]) {
            throw new GoogleError(CloudError.of(RULES.uniqueId, { accountId, project }), {
                what: "Error creating service account",
                details: [{ "@type": "type.googleapis.com/google.rpc.ResourceInfo", resourceName: `projects/${project}/serviceAccounts/${email}` }],
                reason: "alreadyExists",
            });
        }
        accounts[key] = { project, accountId, email, uniqueId: uniqueId(`${key}@${op.now()}`), disabled: inputs.disabled === true };
        // The Terraform ID is the account's name (FILE:195).
        return { id: `projects/${project}/serviceAccounts/${email}`, outs: outputs(accounts[key], inputs) };
    },
    read(op, _id, state) {
        const record = op.db.table<AccountRecord>(TABLE)[`${state.project}/${state.accountId}`];
        // Another identity under the same name is not this resource.
        return record && record.uniqueId === state.uniqueId ? { ...state, disabled: record.disabled } : undefined;
    },
    update(op, _id, olds, news) {
        const record = op.db.table<AccountRecord>(TABLE)[`${olds.project}/${olds.accountId}`];
        if (!record) throw new Error(`no service account ${String(olds.accountId)} in the fake's store`);
        record.disabled = news.disabled === true;
        return outputs(record, news);
    },
    delete(op, _id, state) {
        if (state.deletionPolicy === "ABANDON") return;
        const accounts = op.db.table<AccountRecord>(TABLE);
        const key = `${state.project}/${state.accountId}`;
        const record = accounts[key];
        if (!record || record.uniqueId !== state.uniqueId) return;
        delete accounts[key];
        op.db.table(DELETED_TABLE)[record.uniqueId] = { ...record, deleteTime: new Date(op.now()).toISOString(), purgeTime: new Date(op.now() + UNDELETE_DAYS * 86_400_000).toISOString() };
    },
};
