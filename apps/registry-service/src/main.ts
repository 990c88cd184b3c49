import './tracing';
import { runHttpService } from '@paas/platform/bootstrap';
import { AppModule, REGISTRY_OPTIONS } from './app.module';

void runHttpService(AppModule, REGISTRY_OPTIONS);
