import type * as z from 'zod';
import type { DrPlanSpec } from '../../protocol/dr';

type StepInput = z.input<typeof DrPlanSpec>['steps'][number];

/**
 * The seed's actions only describe what to do; nothing in the daemon can do them until the user
 * configures a command, so they are seeded as manual steps (a run waits for a person to confirm each
 * one) instead of pretending they ran.
 */
function manual(id: string, name: string, instructions: string, expectedSeconds?: number): StepInput {
  return { id, name, action: { kind: 'manual', instructions }, ...(expectedSeconds !== undefined ? { expectedSeconds } : {}) };
}

/** The three plans of SEED_FACTS.md. The event ids are fixed so a seeding that raced or was retried is stored once. */
export const SEED_PLANS: readonly { eventId: string; spec: z.input<typeof DrPlanSpec> }[] = [
  {
    eventId: 'd5ed0000-0000-4000-8000-000000000001',
    spec: {
      id: 'dr_db_001',
      name: 'Database DR',
      description: 'Fail the primary database over to the warm standby.',
      services: ['database'],
      strategy: 'warm_standby',
      rtoSeconds: 30 * 60,
      rpoSeconds: 5 * 60,
      testEveryDays: 90,
      steps: [
        manual('detect_failure', 'Detect failure', 'Confirm the primary database is down (monitoring, connection attempts).', 30),
        manual('verify_backup_availability', 'Verify backup availability', 'Check that the latest backup and the standby replication are current.', 60),
        manual('initiate_failover', 'Initiate failover', 'Promote the warm standby to primary.', 300),
        manual('verify_failover', 'Verify failover', 'Run read and write checks against the new primary.', 120),
        manual('update_dns', 'Update DNS', 'Point the database DNS name at the new primary.', 60),
        manual('notify_stakeholders', 'Notify stakeholders', 'Tell the stakeholders the database failed over and what to expect.'),
        manual('monitor', 'Monitor', 'Watch error rates and replication lag on the new primary.'),
        manual('plan_failback', 'Plan failback', 'Schedule the return to the original primary once it is repaired.'),
      ],
    },
  },
  {
    eventId: 'd5ed0000-0000-4000-8000-000000000002',
    spec: {
      id: 'dr_api_001',
      name: 'API Service DR',
      description: 'Take a failed region out of the multi-site API and carry its load elsewhere.',
      services: ['api'],
      strategy: 'multi_site_active',
      rtoSeconds: 5 * 60,
      rpoSeconds: 0,
      testEveryDays: 30,
      steps: [
        manual('detect_region_failure', 'Detect region failure', 'Confirm which region is failing.', 30),
        manual('remove_failed_region_from_load_balancer', 'Remove failed region from load balancer', 'Drain the failed region from the global load balancer.', 10),
        manual('verify_healthy_regions', 'Verify healthy regions', 'Check health endpoints of the remaining regions.', 30),
        manual('scale_up_remaining_regions', 'Scale up remaining regions', 'Scale the remaining regions for the extra load.', 120),
      ],
    },
  },
  {
    eventId: 'd5ed0000-0000-4000-8000-000000000003',
    spec: {
      id: 'dr_files_001',
      name: 'File Storage DR',
      description: 'Restore file storage from the newest verified backup (the seed named no steps; these are the usual ones).',
      services: ['file_storage'],
      strategy: 'backup_restore',
      rtoSeconds: 2 * 3600,
      rpoSeconds: 3600,
      testEveryDays: 90,
      steps: [
        manual('select_backup', 'Select backup', 'Pick the newest verified backup (backups/list) within the RPO.'),
        manual('restore_backup', 'Restore backup', 'Restore the backup to the replacement storage.'),
        manual('verify_restore', 'Verify restore', 'Check file counts and checksums of the restored data.'),
        manual('switch_traffic', 'Switch traffic', 'Point the services at the restored storage.'),
      ],
    },
  },
];
