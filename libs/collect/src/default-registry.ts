import { dataCollector } from './cluster/data.collector';
import { CollectorRegistry } from './framework/collector-registry';
import { blockDevicesCollector } from './host/block-devices.collector';
import { certificateCollector } from './host/certificate.collector';
import { copyCollector } from './host/copy.collector';
import { diskUsageCollector } from './host/disk-usage.collector';
import { filesystemPerformanceCollector } from './host/filesystem-performance.collector';
import { hostServicesCollector } from './host/host-services.collector';
import { clusterHttpCollector, hostHttpCollector } from './host/http.collector';
import { journaldCollector } from './host/journald.collector';
import { kernelModulesCollector, sysctlCollector } from './host/kernel.collector';
import { runCollector } from './host/run.collector';
import {
  cpuCollector,
  hostOSCollector,
  ipv4InterfacesCollector,
  memoryCollector,
  timeCollector,
} from './host/system-info.collector';
import { tcpConnectCollector, tcpPortStatusCollector } from './host/tcp.collector';
import { mysqlCollector } from './service/mysql.collector';
import { postgresCollector } from './service/postgres.collector';
import { redisCollector } from './service/redis.collector';
import { s3StatusCollector } from './service/s3-status.collector';
import { KUBERNETES_COLLECTORS } from './kubernetes';

/** Every collector cronbundle implements today; Kubernetes and database ones register here later. */
export function createDefaultRegistry(): CollectorRegistry {
  return new CollectorRegistry([
    cpuCollector,
    memoryCollector,
    diskUsageCollector,
    hostOSCollector,
    timeCollector,
    ipv4InterfacesCollector,
    tcpPortStatusCollector,
    tcpConnectCollector,
    hostHttpCollector,
    runCollector,
    copyCollector,
    sysctlCollector,
    kernelModulesCollector,
    blockDevicesCollector,
    hostServicesCollector,
    certificateCollector,
    filesystemPerformanceCollector,
    journaldCollector,
    dataCollector,
    clusterHttpCollector,
    postgresCollector,
    mysqlCollector,
    redisCollector,
    s3StatusCollector,
    ...KUBERNETES_COLLECTORS,
  ]);
}
