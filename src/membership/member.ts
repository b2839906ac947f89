// The member vocabulary of gossip: digests that travel, entries that are applied, and local state.

export type MemberState = "active" | "stale" | "dead";

/** What a SYN carries per member: enough to tell who has the newer news. */
export interface Digest {
  readonly nodeUrl: string;
  /** Set at process start and raised on every restart, so a restarted node supersedes its old self. */
  readonly generation: number;
  /** Raised by the member itself every gossip interval while it lives. */
  readonly heartbeat: number;
}

/** What ACK and ACK2 carry: the digest plus what others need to know of the member. */
export interface Entry extends Digest {
  /** Set while the member hands its data off before leaving the cluster on purpose. */
  readonly leaving: boolean;
}

export interface Member extends Entry {
  readonly state: MemberState;
  /** Local time at which this node last saw the member's heartbeat or generation advance. */
  readonly advancedAtMs: number;
}

/** True when `a` carries newer news of the member than `b`: a later generation, or a later heartbeat in it. */
export function isNewer(a: Digest, b: Digest): boolean {
  return a.generation > b.generation || (a.generation === b.generation && a.heartbeat > b.heartbeat);
}

export function toDigest(member: Digest): Digest {
  return { nodeUrl: member.nodeUrl, generation: member.generation, heartbeat: member.heartbeat };
}

export function toEntry(member: Entry): Entry {
  return { nodeUrl: member.nodeUrl, generation: member.generation, heartbeat: member.heartbeat, leaving: member.leaving };
}
