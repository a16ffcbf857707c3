import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StreamClusterError } from '../../../server/core/errors.js';
import type { DataLookup } from './container-env.js';
import type { Container, Pod, Volume } from './types.js';

/** A container path and the local folder or file used in its place. */
export interface Mount {
  mountPath: string;
  localPath: string;
}

/** What {@link preparePodVolumes} needs from the API server. */
export interface VolumeSources {
  lookup: DataLookup;
  /** Resolves a claim to its bound volume's folder, or undefined while it is unbound. */
  claimPath(namespace: string, claimName: string): Promise<string | undefined>;
}

/** Local folders for each of a pod's volumes, by volume name. */
export type PodVolumes = Map<string, string>;

/**
 * Creates a folder for each volume of the pod under podDir: ConfigMap and Secret volumes get
 * their keys written as files, emptyDir an empty folder, and a claim resolves to its volume's
 * folder, which outlives the pod. Throws with code VOLUME_NOT_READY when a claim is unbound or
 * a required ConfigMap or Secret is missing; the caller retries.
 */
export async function preparePodVolumes(
  pod: Pod,
  podDir: string,
  sources: VolumeSources,
): Promise<PodVolumes> {
  const namespace = pod.metadata.namespace ?? 'default';
  const folders: PodVolumes = new Map();
  for (const volume of pod.spec.volumes ?? []) {
    const folder = await prepareVolume(
      namespace,
      volume,
      join(podDir, 'volumes', volume.name),
      sources,
    );
    if (folder !== undefined) folders.set(volume.name, folder);
  }
  return folders;
}

async function prepareVolume(
  namespace: string,
  volume: Volume,
  folder: string,
  sources: VolumeSources,
): Promise<string | undefined> {
  if (volume.persistentVolumeClaim !== undefined) {
    const path = await sources.claimPath(namespace, volume.persistentVolumeClaim.claimName);
    if (path === undefined)
      throw notReady(
        `claim ${namespace}/${volume.persistentVolumeClaim.claimName} is not bound yet`,
      );
    await mkdir(path, { recursive: true });
    return path;
  }
  const data = volume.configMap ?? volume.secret;
  if (data === undefined) {
    // emptyDir, and kinds the agent does not know, get an empty folder.
    await mkdir(folder, { recursive: true });
    return folder;
  }
  const kind = volume.configMap !== undefined ? 'configmaps' : 'secrets';
  const name = volume.configMap?.name ?? volume.secret?.secretName ?? '';
  const object = await sources.lookup(kind, namespace, name);
  if (object === undefined && data.optional !== true)
    throw notReady(`${kind} ${namespace}/${name} not found`);
  await mkdir(folder, { recursive: true });
  for (const [key, value] of Object.entries(object?.data ?? {})) {
    await writeFile(join(folder, key), kind === 'secrets' ? Buffer.from(value, 'base64') : value);
  }
  return folder;
}

/** Lists a container's mounts with their local paths; subPath selects inside the volume. */
export function containerMounts(container: Container, volumes: PodVolumes): Mount[] {
  const mounts: Mount[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const folder = volumes.get(mount.name);
    if (folder === undefined) continue;
    const localPath = mount.subPath === undefined ? folder : join(folder, mount.subPath);
    mounts.push({ mountPath: mount.mountPath, localPath });
  }
  return mounts;
}

/**
 * Replaces container paths under a mount point with the local folder, because a local process
 * cannot see mounts: `--data=/var/lib/app/index` becomes `--data=<folder>/index`. A path matches
 * at the start of the text or after `=`, `:`, `,` or a space, and only on whole path segments.
 */
export function rewritePaths(text: string, mounts: Mount[]): string {
  const longestFirst = [...mounts].sort((a, b) => b.mountPath.length - a.mountPath.length);
  let result = text;
  for (const { mountPath, localPath } of longestFirst) {
    const escaped = mountPath.replace(/\/+$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`(^|[=:,\\s])${escaped}(?=/|$|[\\s,:])`, 'g');
    result = result.replace(pattern, (_match, lead: string) => lead + localPath);
  }
  return result;
}

function notReady(message: string): StreamClusterError {
  return new StreamClusterError('VOLUME_NOT_READY', message);
}
