/** S3 settings for tests that talk to a test cluster (test/helpers/ceph-cluster.ts) in process. */
import type { S3Settings } from '../../lib/store/s3-client.js';
import type { CephCluster } from './ceph-cluster.js';

export function s3TestSettings(c: CephCluster, over: Partial<S3Settings> = {}): S3Settings {
  return {
    endpoint: c.endpoint, region: 'us-east-1', pathStyle: true,
    credentials: { accessKeyId: c.accessKey, secretAccessKey: c.secretKey },
    retryMs: 10_000, timeoutMs: 10_000, ...over,
  };
}
