BEGIN TRANSACTION;
CREATE TABLE datasets (
	id INTEGER NOT NULL, 
	experiment_id VARCHAR(64) NOT NULL, 
	name VARCHAR(500) NOT NULL, 
	digest VARCHAR(36) NOT NULL, 
	source_type VARCHAR(36) NOT NULL, 
	source TEXT NOT NULL, 
	schema TEXT, 
	profile TEXT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_datasets_experiment_name_digest UNIQUE (experiment_id, name, digest), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id) ON DELETE CASCADE
);
INSERT INTO "datasets" VALUES(1,'46cf4e7fd1de4b7c89c51a10caef184a','iris','d1','local','/data/x.csv','{"cols": ["a"]}','{"num_rows": 3}');
CREATE TABLE experiment_tags (
	experiment_id VARCHAR(64) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(8000) NOT NULL, 
	PRIMARY KEY (experiment_id, "key"), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id) ON DELETE CASCADE
);
INSERT INTO "experiment_tags" VALUES('46cf4e7fd1de4b7c89c51a10caef184a','team','vision');
CREATE TABLE experiments (
	experiment_id VARCHAR(64) NOT NULL, 
	name VARCHAR(500) NOT NULL, 
	artifact_location TEXT NOT NULL, 
	lifecycle_stage VARCHAR(20) NOT NULL, 
	creation_time BIGINT, 
	last_update_time BIGINT, 
	deleted_time BIGINT, 
	PRIMARY KEY (experiment_id), 
	UNIQUE (name)
);
INSERT INTO "experiments" VALUES('46cf4e7fd1de4b7c89c51a10caef184a','schema-2','/tmp/v2store/artifacts/46cf4e7fd1de4b7c89c51a10caef184a','active',1796622056320,1796622056320,NULL);
CREATE TABLE input_tags (
	input_pk INTEGER NOT NULL, 
	name VARCHAR(255) NOT NULL, 
	value VARCHAR(500) NOT NULL, 
	PRIMARY KEY (input_pk, name), 
	FOREIGN KEY(input_pk) REFERENCES inputs (id) ON DELETE CASCADE
);
INSERT INTO "input_tags" VALUES(1,'mlflow.data.context','training');
CREATE TABLE inputs (
	id INTEGER NOT NULL, 
	run_pk INTEGER NOT NULL, 
	dataset_pk INTEGER NOT NULL, 
	context VARCHAR(500) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_inputs_run_dataset_context UNIQUE (run_pk, dataset_pk, context), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE, 
	FOREIGN KEY(dataset_pk) REFERENCES datasets (id) ON DELETE CASCADE
);
INSERT INTO "inputs" VALUES(1,1,1,'training');
CREATE TABLE logged_model_metrics (
	id INTEGER NOT NULL, 
	model_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value FLOAT, 
	timestamp BIGINT NOT NULL, 
	step BIGINT NOT NULL, 
	run_id VARCHAR(32), 
	dataset_name VARCHAR(500), 
	dataset_digest VARCHAR(36), 
	PRIMARY KEY (id), 
	FOREIGN KEY(model_pk) REFERENCES logged_models (id) ON DELETE CASCADE
);
CREATE TABLE logged_model_params (
	model_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (model_pk, "key"), 
	FOREIGN KEY(model_pk) REFERENCES logged_models (id) ON DELETE CASCADE
);
CREATE TABLE logged_model_tags (
	model_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(8000) NOT NULL, 
	PRIMARY KEY (model_pk, "key"), 
	FOREIGN KEY(model_pk) REFERENCES logged_models (id) ON DELETE CASCADE
);
CREATE TABLE logged_models (
	id INTEGER NOT NULL, 
	model_id VARCHAR(64) NOT NULL, 
	experiment_id VARCHAR(64) NOT NULL, 
	run_pk INTEGER, 
	name VARCHAR(500) NOT NULL, 
	artifact_location TEXT NOT NULL, 
	creation_time BIGINT NOT NULL, 
	last_updated_time BIGINT NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	status_message VARCHAR(1000), 
	lifecycle_stage VARCHAR(20) NOT NULL, 
	model_type VARCHAR(500), 
	source_run_id VARCHAR(32), 
	PRIMARY KEY (id), 
	UNIQUE (model_id), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id), 
	FOREIGN KEY(run_pk) REFERENCES runs (id)
);
CREATE TABLE metric_blocks (
	run_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	block BIGINT NOT NULL, 
	min_value FLOAT, 
	max_value FLOAT, 
	first_step BIGINT NOT NULL, 
	last_step BIGINT NOT NULL, 
	first_timestamp BIGINT NOT NULL, 
	last_timestamp BIGINT NOT NULL, 
	last_value FLOAT, 
	count BIGINT NOT NULL, 
	PRIMARY KEY (run_pk, "key", block), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "metric_blocks" VALUES(1,'loss',0,3.33333333333333314829e-01,1.0,0,2,1700000000000,1700000000002,3.33333333333333314829e-01,3);
INSERT INTO "metric_blocks" VALUES(2,'loss',0,1.66666666666666657414e-01,0.5,0,2,1700000000000,1700000000002,1.66666666666666657414e-01,3);
CREATE TABLE metric_summaries (
	run_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	latest_value FLOAT, 
	latest_step BIGINT NOT NULL, 
	latest_timestamp BIGINT NOT NULL, 
	min_value FLOAT, 
	max_value FLOAT, 
	count BIGINT NOT NULL, 
	PRIMARY KEY (run_pk, "key"), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "metric_summaries" VALUES(1,'loss',3.33333333333333314829e-01,2,1700000000002,3.33333333333333314829e-01,1.0,3);
INSERT INTO "metric_summaries" VALUES(2,'loss',1.66666666666666657414e-01,2,1700000000002,1.66666666666666657414e-01,0.5,3);
CREATE TABLE metrics (
	id INTEGER NOT NULL, 
	run_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value FLOAT, 
	timestamp BIGINT NOT NULL, 
	step BIGINT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "metrics" VALUES(1,1,'loss',1.0,1700000000000,0);
INSERT INTO "metrics" VALUES(2,1,'loss',0.5,1700000000001,1);
INSERT INTO "metrics" VALUES(3,1,'loss',3.33333333333333314829e-01,1700000000002,2);
INSERT INTO "metrics" VALUES(4,2,'loss',0.5,1700000000000,0);
INSERT INTO "metrics" VALUES(5,2,'loss',0.25,1700000000001,1);
INSERT INTO "metrics" VALUES(6,2,'loss',1.66666666666666657414e-01,1700000000002,2);
CREATE TABLE params (
	run_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(6000) NOT NULL, 
	PRIMARY KEY (run_pk, "key"), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "params" VALUES(1,'lr','0.1');
INSERT INTO "params" VALUES(2,'lr','0.2');
CREATE TABLE run_models (
	run_pk INTEGER NOT NULL, 
	model_id VARCHAR(64) NOT NULL, 
	direction VARCHAR(10) NOT NULL, 
	step BIGINT NOT NULL, 
	PRIMARY KEY (run_pk, model_id, direction), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE
);
CREATE TABLE runs (
	id INTEGER NOT NULL, 
	run_id VARCHAR(32) NOT NULL, 
	experiment_id VARCHAR(64) NOT NULL, 
	run_name VARCHAR(250) NOT NULL, 
	user_id VARCHAR(256) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	start_time BIGINT, 
	end_time BIGINT, 
	heartbeat_time BIGINT, 
	lifecycle_stage VARCHAR(20) NOT NULL, 
	deleted_time BIGINT, 
	deletion_id VARCHAR(32), 
	source_type VARCHAR(20), 
	source_name VARCHAR(500), 
	entry_point VARCHAR(500), 
	source_version VARCHAR(64), 
	parent_run_id VARCHAR(32), 
	artifact_uri TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (run_id), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id)
);
INSERT INTO "runs" VALUES(1,'c26619483c72474fb14e0cc9046947c1','46cf4e7fd1de4b7c89c51a10caef184a','run-0','root','FINISHED',1796622056449,1796622056529,1796622056449,'active',NULL,NULL,NULL,NULL,NULL,NULL,NULL,'/tmp/v2store/artifacts/46cf4e7fd1de4b7c89c51a10caef184a/c26619483c72474fb14e0cc9046947c1/artifacts');
INSERT INTO "runs" VALUES(2,'021bd7cd435443af894fc7f09240c286','46cf4e7fd1de4b7c89c51a10caef184a','run-1','root','FINISHED',1796622056530,1796622056561,1796622056530,'active',NULL,NULL,NULL,NULL,NULL,NULL,NULL,'/tmp/v2store/artifacts/46cf4e7fd1de4b7c89c51a10caef184a/021bd7cd435443af894fc7f09240c286/artifacts');
CREATE TABLE schema_version (
	id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "schema_version" VALUES(1,2);
CREATE TABLE tags (
	run_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(8000) NOT NULL, 
	PRIMARY KEY (run_pk, "key"), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "tags" VALUES(1,'runyard.runName','run-0');
INSERT INTO "tags" VALUES(1,'stage','dev');
INSERT INTO "tags" VALUES(2,'runyard.runName','run-1');
INSERT INTO "tags" VALUES(2,'stage','dev');
CREATE INDEX ix_runs_parent_run_id ON runs (parent_run_id);
CREATE INDEX ix_runs_stage_deleted ON runs (lifecycle_stage, deleted_time);
CREATE INDEX ix_runs_experiment_stage_start ON runs (experiment_id, lifecycle_stage, start_time);
CREATE INDEX ix_params_key_value ON params ("key", value, run_pk);
CREATE INDEX ix_tags_key_value ON tags ("key", value, run_pk);
CREATE INDEX ix_metrics_run_key_step ON metrics (run_pk, "key", step, timestamp);
CREATE INDEX ix_metric_summaries_key_latest ON metric_summaries ("key", latest_value, run_pk);
CREATE INDEX ix_inputs_dataset ON inputs (dataset_pk);
CREATE INDEX ix_run_models_model ON run_models (model_id);
CREATE INDEX ix_logged_models_experiment_created ON logged_models (experiment_id, creation_time);
CREATE INDEX ix_logged_models_run_pk ON logged_models (run_pk);
CREATE INDEX ix_input_tags_name_value ON input_tags (name, value);
CREATE INDEX ix_logged_model_metrics_model ON logged_model_metrics (model_pk, "key");
COMMIT;
