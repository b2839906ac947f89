// The shapes the public API answers with, taken from the routes' own schemas so page and node cannot drift apart.
import type { Static } from "@sinclair/typebox";
import type { gossipResponse, ringResponse, stateResponse } from "../http/cluster/model.ts";
import type { getResponse, keysResponse, replicasResponse } from "../http/kv/model.ts";
import type { ErrorBody } from "../http/errors.ts";
import type { HealthBody } from "../node/views.ts";

export type ClusterState = Static<typeof stateResponse>;
export type Member = ClusterState["members"][number];
export type MemberState = "active" | "stale" | "dead";
/** The ring without its 64-bit hashes: JSON.parse would round them, and the page needs only shares and counts. */
export type RingView = Pick<Static<typeof ringResponse>, "currentNode" | "totalNodes" | "allNodes" | "virtualNodesPerNode" | "virtualNodeDistribution" | "shares">;
export type GossipView = Static<typeof gossipResponse>;
export type Health = HealthBody;
export type KeysPage = Static<typeof keysResponse>;
export type KeyEntry = KeysPage["keys"][number];
export type GetAnswer = Static<typeof getResponse>;
export type Replicas = Static<typeof replicasResponse>;
export type Replica = Replicas["replicas"][number];
export type { ErrorBody };
