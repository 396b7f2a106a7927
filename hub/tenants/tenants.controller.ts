import { Controller, Inject } from '@nestjs/common';
import { type Tenant } from '../../proto/index.js';
import {
  type CreateTenantRequest,
  type DeleteResponse,
  type DeleteTenantRequest,
  type GetTenantRequest,
  type ListTenantsResponse,
  type UpdateTenantRequest,
} from '../../proto/api.js';
import { TenantServiceControllerMethods, type TenantServiceController } from '../../proto/nest.js';
import { TenantsService } from './tenants.service.js';

@Controller()
@TenantServiceControllerMethods()
export class TenantsController implements TenantServiceController {
  constructor(@Inject(TenantsService) private readonly tenants: TenantsService) {}

  createTenant(request: CreateTenantRequest): Promise<Tenant> {
    return this.tenants.create(request.tenant);
  }

  updateTenant(request: UpdateTenantRequest): Promise<Tenant> {
    return this.tenants.update(request.tenant);
  }

  getTenant(request: GetTenantRequest): Promise<Tenant> {
    return this.tenants.get(request.name);
  }

  async listTenants(): Promise<ListTenantsResponse> {
    return { tenants: await this.tenants.list() };
  }

  async deleteTenant(request: DeleteTenantRequest): Promise<DeleteResponse> {
    await this.tenants.delete(request.name);
    return {};
  }
}
