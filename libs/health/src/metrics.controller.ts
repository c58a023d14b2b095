import { Controller, Get, Header } from '@nestjs/common';
import { metrics } from '@im/metrics';

@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  render(): string {
    const memory = process.memoryUsage();
    metrics.gauge('process_resident_memory_bytes', 'Resident memory').set({}, memory.rss);
    metrics.gauge('nodejs_heap_used_bytes', 'V8 heap in use').set({}, memory.heapUsed);
    return metrics.render();
  }
}
