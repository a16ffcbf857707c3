import { resources } from './common.js';
import { autoscaling, scaleIn } from './autoscaling.js';
import { enumOf, integer, object, quantityString, string } from './schema.js';

function retention(description: string) {
  return enumOf(['Retain', 'Delete'] as const, { description }).default('Retain');
}

/** Index volumes of the stream servers. */
export const storage = object(
  {
    size: quantityString({ description: 'Size of each server index volume.' }).default('1Gi'),
    className: string({
      description: 'StorageClass of the index volumes; the cluster default when unset.',
      maxLength: 253,
    }).optional(),
    whenScaled: retention('Keep (Retain) or remove (Delete) the volume of a server scaled away.'),
    whenDeleted: retention(
      'Keep (Retain) or remove (Delete) the volumes when the cluster is deleted.',
    ),
  },
  {
    description:
      'Persistent index volume of each stream server. Volume claim templates of a StatefulSet ' +
      'cannot change, so size and className are fixed once the cluster exists.',
  },
).validate(
  {
    rule: 'self.size == oldSelf.size',
    message: 'storage.size cannot change after creation; create a new StreamCluster instead',
    fieldPath: '.size',
  },
  {
    rule: 'has(self.className) == has(oldSelf.className) && (!has(self.className) || self.className == oldSelf.className)',
    message: 'storage.className cannot change after creation; create a new StreamCluster instead',
    fieldPath: '.className',
  },
);

/** The stream servers: the StatefulSet that serves WebSocket clients. */
export const servers = object(
  {
    replicas: integer({
      description: 'Number of stream servers; `kubectl scale` sets it.',
      minimum: 0,
      maximum: 1000,
    }).default(2),
    resources: resources.optional(),
    storage: storage.defaultEmpty(),
    autoscaling: autoscaling.defaultEmpty(),
    scaleIn: scaleIn.defaultEmpty(),
  },
  { description: 'Stream servers, run as a StatefulSet with one index volume each.' },
);
