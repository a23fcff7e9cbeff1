BEGIN TRANSACTION;
CREATE TABLE experiment_tags (
	experiment_id VARCHAR(64) NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(8000) NOT NULL, 
	PRIMARY KEY (experiment_id, "key"), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (experiment_id) ON DELETE CASCADE
);
INSERT INTO "experiment_tags" VALUES('3e3bf637303a4a20af5db8eee1f373b2','team','vision');
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
INSERT INTO "experiments" VALUES('3e3bf637303a4a20af5db8eee1f373b2','schema-1','/tmp/v1store/artifacts/3e3bf637303a4a20af5db8eee1f373b2','active',1796612755451,1796612755451,NULL);
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
INSERT INTO "metric_blocks" VALUES(2,'loss',0,0.25,0.5,0,2,1700000000000,1700000000002,0.25,3);
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
INSERT INTO "metric_summaries" VALUES(2,'loss',0.25,2,1700000000002,0.25,0.5,3);
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
INSERT INTO "metrics" VALUES(5,2,'loss',3.33333333333333314829e-01,1700000000001,1);
INSERT INTO "metrics" VALUES(6,2,'loss',0.25,1700000000002,2);
CREATE TABLE params (
	run_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(6000) NOT NULL, 
	PRIMARY KEY (run_pk, "key"), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "params" VALUES(1,'lr','0.1');
INSERT INTO "params" VALUES(2,'lr','0.2');
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
INSERT INTO "runs" VALUES(1,'2c88e573fd834c74943852c0105a4931','3e3bf637303a4a20af5db8eee1f373b2','run-0','root','FINISHED',1796612755546,1796612755579,1796612755546,'active',NULL,NULL,NULL,NULL,NULL,NULL,NULL,'/tmp/v1store/artifacts/3e3bf637303a4a20af5db8eee1f373b2/2c88e573fd834c74943852c0105a4931/artifacts');
INSERT INTO "runs" VALUES(2,'7145f9416a6445059d7a9fd9b3de34e9','3e3bf637303a4a20af5db8eee1f373b2','run-1','root','FINISHED',1796612755585,1796612755594,1796612755585,'active',NULL,NULL,NULL,NULL,NULL,NULL,NULL,'/tmp/v1store/artifacts/3e3bf637303a4a20af5db8eee1f373b2/7145f9416a6445059d7a9fd9b3de34e9/artifacts');
CREATE TABLE schema_version (
	id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "schema_version" VALUES(1,1);
CREATE TABLE tags (
	run_pk INTEGER NOT NULL, 
	"key" VARCHAR(250) NOT NULL, 
	value VARCHAR(8000) NOT NULL, 
	PRIMARY KEY (run_pk, "key"), 
	FOREIGN KEY(run_pk) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "tags" VALUES(1,'runyard.runName','run-0');
INSERT INTO "tags" VALUES(1,'kind','baseline');
INSERT INTO "tags" VALUES(2,'runyard.runName','run-1');
INSERT INTO "tags" VALUES(2,'kind','baseline');
CREATE INDEX ix_runs_parent_run_id ON runs (parent_run_id);
CREATE INDEX ix_runs_experiment_stage_start ON runs (experiment_id, lifecycle_stage, start_time);
CREATE INDEX ix_runs_stage_deleted ON runs (lifecycle_stage, deleted_time);
CREATE INDEX ix_params_key_value ON params ("key", value, run_pk);
CREATE INDEX ix_tags_key_value ON tags ("key", value, run_pk);
CREATE INDEX ix_metrics_run_key_step ON metrics (run_pk, "key", step, timestamp);
CREATE INDEX ix_metric_summaries_key_latest ON metric_summaries ("key", latest_value, run_pk);
COMMIT;
