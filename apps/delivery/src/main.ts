import 'reflect-metadata';
import { bootstrapService } from '@im/health';
import { DeliveryModule } from './delivery.module';

void bootstrapService('delivery', DeliveryModule, (config) => config.DELIVERY_PORT);
