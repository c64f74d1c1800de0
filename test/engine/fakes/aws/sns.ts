/**
 * SNS: `aws:sns/topic:Topic` and `aws:sns/topicSubscription:TopicSubscription`.
 *
 * CreateTopic with the name of a topic the account already has in the region is not refused: "This
 * action is idempotent, so if the requester already owns a topic with the specified name, that
 * topic's ARN is returned without creating a new topic" (API_CreateTopic.html), and the provider
 * takes it as its own (topic.go resourceTopicCreate calls CreateTopic and sets the ID it returns).
 * Two stacks naming one topic then share it; the fake records who took it (`owners`), and DeleteTopic
 * deletes it, with every subscription, for all of them ("Deletes a topic and all its
 * subscriptions": API_DeleteTopic.html).
 *
 * An email subscription stays pending until its address confirms it, which no test does. The
 * provider does not wait for email (topic_subscription.go resourceTopicSubscriptionCreate), and its
 * delete takes Unsubscribe's "Cannot unsubscribe a subscription that is pending confirmation" as done
 * (resourceTopicSubscriptionDelete): the pending subscription stays in SNS until its topic goes.
 *
 * ForceNew sources: topic.go as stored at commit 00a35305dc1b297a6fcdecdfbba33f1e63c3da39,
 * topic_subscription.go at 04a2e6e5bc625ec85ea8c678219b483fc674877e (hashicorp/terraform-provider-aws).
 */
import { randomUUID } from "crypto";

import { CloudError, isUnknown, type ForceNew, type Props, type ResourceModule, type Rule } from "../framework";
import { arn, refuse, regionOf, required, str, type Call } from "./common";

const TOPIC = "internal/service/sns/topic.go";
const SUBSCRIPTION = "internal/service/sns/topic_subscription.go";
const API = "https://docs.aws.amazon.com/sns/latest/api";

export const RULES = {
    topicName: {
        rule: "a topic name is 1-256 letters, digits, '-' and '_' (a FIFO topic's ends in .fifo)",
        error: { status: 0, code: "provider", message: "invalid topic name: {name}" },
        source: `${TOPIC} resourceTopicCustomizeDiff; ${API}/API_CreateTopic.html (Name constraints)`,
    },
    topicNotFound: {
        rule: "a subscription is made to a topic that exists",
        error: { status: 404, code: "NotFound", message: "Topic does not exist" },
        source: `${API}/API_Subscribe.html (Errors: NotFound, "Indicates that the requested resource does not exist")`,
    },
} as const satisfies Record<string, Rule>;

export const TOPIC_FORCE_NEW: readonly ForceNew[] = [
    { field: "fifoTopic", source: `${TOPIC}:85` },
    { field: "name", source: `${TOPIC}:140` },
    { field: "namePrefix", source: `${TOPIC}:147` },
];
export const SUBSCRIPTION_FORCE_NEW: readonly ForceNew[] = [
    { field: "endpoint", source: `${SUBSCRIPTION}:62` },
    { field: "protocol", source: `${SUBSCRIPTION}:97` },
    // `topic` in the SDK is the provider's `topic_arn`.
    { field: "topic", source: `${SUBSCRIPTION}:135` },
];

export const TOPICS = "sns.topics";
export const SUBSCRIPTIONS = "sns.subscriptions";

export interface TopicRecord extends Props {
    arn: string;
    name: string;
    region: string;
    displayName: string;
    owners: string[];
}

export interface SubscriptionRecord extends Props {
    arn: string;
    topicArn: string;
    protocol: string;
    endpoint: string;
    /** Email and email-json wait for the address to confirm; nothing confirms in a test. */
    pendingConfirmation: boolean;
}

const TOPIC_NAME = /^[0-9A-Za-z_-]{1,256}$/;
const FIFO_NAME = /^[0-9A-Za-z_-]{1,251}\.fifo$/;

function snsCall(operation: string, subject: string): Call {
    return { subject, service: "SNS", operation };
}

function topicOutputs(inputs: Props, record: TopicRecord): Props {
    return {
        ...inputs,
        arn: record.arn,
        displayName: inputs.displayName ?? "",
        fifoTopic: inputs.fifoTopic ?? false,
        name: record.name,
        namePrefix: "",
        owner: "123456789012",
        region: record.region,
        signatureVersion: inputs.signatureVersion ?? 1,
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
    };
}

export const topic: ResourceModule = {
    type: "aws:sns/topic:Topic",
    forceNew: TOPIC_FORCE_NEW,
    check(inputs) {
        const name = str(inputs, "name");
        if (name === undefined || isUnknown(name)) return [];
        const ok = inputs.fifoTopic === true ? FIFO_NAME.test(name) : TOPIC_NAME.test(name);
        return ok ? [] : [{ property: "name", reason: RULES.topicName.error.message.replace("{name}", name) }];
    },
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = required(inputs, "name", "aws:sns/topic:Topic");
        if (!(inputs.fifoTopic === true ? FIFO_NAME : TOPIC_NAME).test(name)) throw CloudError.of(RULES.topicName, { name });
        const topicArn = arn("sns", region, name);
        const table = op.db.table<TopicRecord>(TOPICS);
        const existing = table[topicArn];
        if (existing) existing.owners.push(op.urn);
        else table[topicArn] = { arn: topicArn, name, region, displayName: str(inputs, "displayName") ?? "", owners: [op.urn] };
        return { id: topicArn, outs: topicOutputs(inputs, table[topicArn]) };
    },
    read(op, id, state) {
        const record = op.db.table<TopicRecord>(TOPICS)[id];
        return record ? { ...state, ...topicOutputs(state, record) } : undefined;
    },
    update(op, id, _olds, news) {
        const record = op.db.table<TopicRecord>(TOPICS)[id];
        record.displayName = str(news, "displayName") ?? "";
        return topicOutputs(news, record);
    },
    delete(op, id) {
        delete op.db.table(TOPICS)[id];
        const subscriptions = op.db.table<SubscriptionRecord>(SUBSCRIPTIONS);
        for (const [key, s] of Object.entries(subscriptions)) if (s.topicArn === id) delete subscriptions[key];
    },
};

function subscriptionOutputs(inputs: Props, record: SubscriptionRecord): Props {
    return {
        ...inputs,
        arn: record.arn,
        confirmationTimeoutInMinutes: inputs.confirmationTimeoutInMinutes ?? 1,
        confirmationWasAuthenticated: false,
        endpointAutoConfirms: inputs.endpointAutoConfirms ?? false,
        ownerId: "123456789012",
        pendingConfirmation: record.pendingConfirmation,
        rawMessageDelivery: inputs.rawMessageDelivery ?? false,
        region: record.arn.split(":")[3],
    };
}

export const topicSubscription: ResourceModule = {
    type: "aws:sns/topicSubscription:TopicSubscription",
    forceNew: SUBSCRIPTION_FORCE_NEW,
    create(op, inputs) {
        const type = "aws:sns/topicSubscription:TopicSubscription";
        const topicArn = required(inputs, "topic", type);
        const protocol = required(inputs, "protocol", type);
        const endpoint = required(inputs, "endpoint", type);
        if (!op.db.table<TopicRecord>(TOPICS)[topicArn]) throw refuse(RULES.topicNotFound, snsCall("Subscribe", "SNS Topic Subscription"));
        // Subscribe with ReturnSubscriptionArn: the ARN even while the subscription is pending.
        const subscriptionArn = `${topicArn}:${randomUUID()}`;
        const record: SubscriptionRecord = { arn: subscriptionArn, topicArn, protocol, endpoint, pendingConfirmation: protocol.startsWith("email") };
        op.db.table<SubscriptionRecord>(SUBSCRIPTIONS)[subscriptionArn] = record;
        regionOf(op, inputs);
        return { id: subscriptionArn, outs: subscriptionOutputs(inputs, record) };
    },
    read(op, id, state) {
        const record = op.db.table<SubscriptionRecord>(SUBSCRIPTIONS)[id];
        return record ? { ...state, ...subscriptionOutputs(state, record) } : undefined;
    },
    update(op, id, _olds, news) {
        return subscriptionOutputs(news, op.db.table<SubscriptionRecord>(SUBSCRIPTIONS)[id]);
    },
    delete(op, id) {
        const subscriptions = op.db.table<SubscriptionRecord>(SUBSCRIPTIONS);
        // A pending subscription cannot be unsubscribed; the provider counts that as deleted.
        if (subscriptions[id] && !subscriptions[id].pendingConfirmation) delete subscriptions[id];
    },
};
