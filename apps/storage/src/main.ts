import 'reflect-metadata';
import { bootstrapService } from '@im/health';
import { StorageModule } from './storage.module';

void bootstrapService('storage', StorageModule, (config) => config.STORAGE_PORT);
