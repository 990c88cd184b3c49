import './tracing';
import { startRouter } from './bootstrap';

void startRouter();
