// Optimisers and learning-rate schedules.
export { ReduceLROnPlateau, StepLR, type HasLr, type PlateauOptions, type PlateauState } from './lr_scheduler.js';
export { SGD, type SgdOptions, type SgdState } from './sgd.js';
