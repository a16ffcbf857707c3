import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../server/core/logger.js';
import { KubeApiError, type KubeClient } from './kube-client.js';
import type { PersistentVolumeClaim } from './types.js';

/** The provisioner name of the test cluster's StorageClass (storage-class.yaml). */
export const provisionerName = 'streamcluster.io/test-agent';

/** A PersistentVolume, as far as the provisioner reads it. */
export interface PersistentVolume {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec: { hostPath?: { path: string }; persistentVolumeReclaimPolicy?: string };
  status?: { phase?: string };
}

/** Settings of {@link Provisioner}. */
export interface ProvisionerOptions {
  client: KubeClient;
  /** Folder that contains one folder per provisioned volume. */
  volumesDir: string;
  /** StorageClasses whose claims this provisioner serves. */
  storageClasses: string[];
  logger: Logger;
}

/**
 * Provisions claims of the test StorageClass as folders: a hostPath PersistentVolume per claim,
 * pre-bound through claimRef so the controller manager binds the pair. Deletes a volume and its
 * folder once it is Released under the Delete reclaim policy.
 */
export class Provisioner {
  constructor(private readonly options: ProvisionerOptions) {}

  /** Creates a volume for a pending claim of a served class; ignores every other claim. */
  async handleClaim(claim: PersistentVolumeClaim): Promise<void> {
    const storageClass = claim.spec.storageClassName ?? '';
    if (claim.metadata.deletionTimestamp !== undefined || claim.spec.volumeName) return;
    if (!this.options.storageClasses.includes(storageClass)) return;
    const name = `pvc-${claim.metadata.uid}`;
    const volume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': provisionerName } },
      spec: {
        capacity: { storage: claim.spec.resources?.requests?.storage ?? '1Gi' },
        accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: storageClass,
        hostPath: { path: join(this.options.volumesDir, name), type: 'DirectoryOrCreate' },
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: claim.metadata.namespace,
          name: claim.metadata.name,
          uid: claim.metadata.uid,
        },
      },
    };
    try {
      await this.options.client.request('POST', '/api/v1/persistentvolumes', volume);
      this.options.logger.info(
        { claim: `${claim.metadata.namespace}/${claim.metadata.name}`, volume: name },
        'volume provisioned',
      );
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return;
      throw error;
    }
  }

  /** Deletes a released volume of this provisioner, folder first. */
  async handleVolume(volume: PersistentVolume): Promise<void> {
    if (volume.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] !== provisionerName)
      return;
    if (
      volume.status?.phase !== 'Released' ||
      volume.spec.persistentVolumeReclaimPolicy !== 'Delete'
    )
      return;
    const path = volume.spec.hostPath?.path;
    if (path?.startsWith(this.options.volumesDir + '/'))
      await rm(path, { recursive: true, force: true });
    try {
      await this.options.client.request(
        'DELETE',
        `/api/v1/persistentvolumes/${volume.metadata.name}`,
      );
      this.options.logger.info({ volume: volume.metadata.name }, 'released volume deleted');
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    }
  }

  /** Returns the folder of a bound claim's volume, or undefined while the claim is unbound. */
  async claimPath(namespace: string, claimName: string): Promise<string | undefined> {
    const { client } = this.options;
    const claim = await client
      .request<PersistentVolumeClaim>(
        'GET',
        `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claimName}`,
      )
      .catch(notFoundAsUndefined);
    if (claim?.status?.phase !== 'Bound' || !claim.spec.volumeName) return undefined;
    const volume = await client.request<PersistentVolume>(
      'GET',
      `/api/v1/persistentvolumes/${claim.spec.volumeName}`,
    );
    return volume.spec.hostPath?.path;
  }
}

/** Turns a 404 into undefined and rethrows anything else. */
export function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof KubeApiError && error.status === 404) return undefined;
  throw error;
}
