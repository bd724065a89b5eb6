import { resolve } from 'node:path';
import type { CallInput } from '#contract/api';
import type { VaultTargetKind } from '#contract/dto';
import type { PublishTarget } from '../types';
import { FolderTarget } from './folderTarget';
import { KuboTarget } from './kuboTarget';
import type { TargetConfig, TargetConfigOf } from './targetConfig';
import { W3upTarget, type W3upTargetOptions } from './w3upTarget';

/**
 * The kinds of publish target, each declaring once how it is created from what the user asked
 * for, opened again from its saved config, shown, and what it can do. The vault looks a kind
 * up here instead of branching on it; adding a kind is one entry (and a config schema).
 */

/** What a kind can do beyond publishing a CAR and serving its blocks back, which all do. */
export interface TargetCapabilities {
  /** Keeps the signed latest-snapshot record, so a new machine restores from the phrase alone. */
  readonly latestPointer: boolean;
  /** Lists what it holds, including what other machines published there. */
  readonly listUploads: boolean;
  /** Adding one signs in to an account (an emailed link), which can take minutes. */
  readonly login: boolean;
  /** Takes the CAR as a stream written straight into place (publishStream): no local copy of it. */
  readonly streamsCar: boolean;
}

/** What opening a target may need from the vault: where web3.storage keeps this device's agent. */
export interface TargetEnv {
  w3up: W3upTargetOptions;
}

export type AddTargetInput = CallInput<'vault.addTarget'>;
type AddTargetInputOf<K extends VaultTargetKind> = { [I in AddTargetInput as I['kind']]: I }[K];

export interface TargetKind<K extends VaultTargetKind> {
  readonly kind: K;
  readonly capabilities: TargetCapabilities;
  /** The saved config and the default name for what the user asked to add (w3up signs in here). */
  create(input: AddTargetInputOf<K>, env: TargetEnv, options: { signal?: AbortSignal }): Promise<{ config: TargetConfigOf<K>; name: string }>;
  /** The target again, from its saved config. */
  open(config: TargetConfigOf<K>, env: TargetEnv): Promise<PublishTarget>;
  /** For people: a folder path, an IPFS node's RPC URL, a web3.storage space DID. */
  location(config: TargetConfigOf<K>): string;
}

const folder: TargetKind<'folder'> = {
  kind: 'folder',
  capabilities: { latestPointer: true, listUploads: true, login: false, streamsCar: true },
  create: (input) => {
    const path = resolve(input.path);
    return Promise.resolve({ config: { kind: 'folder', path }, name: input.name ?? `Folder ${path}` });
  },
  open: (config) => Promise.resolve(new FolderTarget(config.path)),
  location: (config) => config.path,
};

const kubo: TargetKind<'kubo'> = {
  kind: 'kubo',
  capabilities: { latestPointer: true, listUploads: false, login: false, streamsCar: false },
  create: (input) => {
    const apiUrl = input.apiUrl.replace(/\/+$/, '');
    return Promise.resolve({ config: { kind: 'kubo', apiUrl }, name: input.name ?? `IPFS node ${apiUrl}` });
  },
  open: (config) => Promise.resolve(new KuboTarget({ apiUrl: config.apiUrl })),
  location: (config) => config.apiUrl,
};

const w3up: TargetKind<'w3up'> = {
  kind: 'w3up',
  capabilities: { latestPointer: false, listUploads: true, login: true, streamsCar: false },
  /** Signs in by email (resolves once the emailed link is clicked), then creates or reuses the space. */
  create: async (input, env, options) => {
    const client = await W3upTarget.open(env.w3up);
    await client.login(input.email, options);
    const wanted = input.space ?? 'Hearth';
    const space = client.spaces().find((s) => s.name === wanted)?.did ?? (await client.createSpace(wanted));
    return { config: { kind: 'w3up', email: input.email, space }, name: input.name ?? `web3.storage ${wanted}` };
  },
  open: async (config, env) => {
    const client = await W3upTarget.open(env.w3up);
    await client.useSpace(config.space);
    return client;
  },
  location: (config) => config.space,
};

const KINDS: { readonly [K in VaultTargetKind]: TargetKind<K> } = { folder, kubo, w3up };

export function isTargetKind(value: string): value is VaultTargetKind {
  return Object.hasOwn(KINDS, value);
}

export function targetKind<K extends VaultTargetKind>(kind: K): TargetKind<K> {
  return KINDS[kind];
}

export function capabilitiesOf(kind: VaultTargetKind): TargetCapabilities {
  return KINDS[kind].capabilities;
}

export function createTarget(input: AddTargetInput, env: TargetEnv, options: { signal?: AbortSignal } = {}): Promise<{ config: TargetConfig; name: string }> {
  return createKind(input.kind, input, env, options);
}

export function openTarget(config: TargetConfig, env: TargetEnv): Promise<PublishTarget> {
  return openKind(config.kind, config, env);
}

export function targetLocation(config: TargetConfig): string {
  return locationOf(config.kind, config);
}

/** A target's kind and place, as this machine's record of its latest-snapshot pointers names it. */
export function placeOf(config: TargetConfig): { kind: VaultTargetKind; location: string } {
  return { kind: config.kind, location: targetLocation(config) };
}

// The tag and the value travel as two arguments so TypeScript can match a kind's entry to its
// own config type (the pattern of microsoft/TypeScript#47109), with no cast.
function createKind<K extends VaultTargetKind>(kind: K, input: AddTargetInputOf<K>, env: TargetEnv, options: { signal?: AbortSignal }) {
  return KINDS[kind].create(input, env, options);
}

function openKind<K extends VaultTargetKind>(kind: K, config: TargetConfigOf<K>, env: TargetEnv): Promise<PublishTarget> {
  return KINDS[kind].open(config, env);
}

function locationOf<K extends VaultTargetKind>(kind: K, config: TargetConfigOf<K>): string {
  return KINDS[kind].location(config);
}
