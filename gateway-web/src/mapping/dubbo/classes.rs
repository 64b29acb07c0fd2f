//! The provider classes an API declares (`dubbo.classes`), compiled once: each POJO's fields with their
//! parsed Java types, each enum's constants. Coercion reads them to put a POJO's fields on the wire as
//! their declared types and to refuse what does not fit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::java_type::JavaType;
use crate::mapping::PlanError;

#[derive(Debug, Default, Clone)]
pub struct Classes(Arc<HashMap<String, Class>>);

#[derive(Debug)]
pub enum Class {
    /// Field name → type, in name order.
    Pojo(BTreeMap<String, JavaType>),
    Enum(Vec<String>),
}

impl Classes {
    pub fn compile(
        declared: &BTreeMap<String, api_model::JavaClass>,
    ) -> Result<Classes, PlanError> {
        let enums: Vec<&str> = declared
            .iter()
            .filter(|(_, class)| !class.constants.is_empty())
            .map(|(name, _)| name.as_str())
            .collect();
        let mut classes = HashMap::with_capacity(declared.len());
        for (name, class) in declared {
            let fail = |problem: String| PlanError(format!("class `{name}`: {problem}"));
            match JavaType::parse(name, false) {
                Ok(JavaType::Pojo(_)) => {}
                Ok(_) => {
                    return Err(fail(
                        "is a type the gateway knows already; declare POJOs and enums".into(),
                    ));
                }
                Err(problem) => return Err(fail(problem)),
            }
            let compiled = if class.constants.is_empty() {
                let mut fields = BTreeMap::new();
                for (field, text) in &class.fields {
                    let ty = JavaType::parse(text, false)
                        .map_err(|e| fail(format!("field `{field}`: {e}")))?;
                    fields.insert(field.clone(), resolve(ty, &enums));
                }
                Class::Pojo(fields)
            } else if class.fields.is_empty() {
                Class::Enum(class.constants.clone())
            } else {
                return Err(fail("declares both `fields` and `enum` constants".into()));
            };
            classes.insert(name.clone(), compiled);
        }
        Ok(Classes(Arc::new(classes)))
    }

    /// `ty` with every class this API declares as an enum read as that enum.
    pub fn resolve(&self, ty: JavaType) -> JavaType {
        let enums: Vec<&str> = self
            .0
            .iter()
            .filter(|(_, class)| matches!(class, Class::Enum(_)))
            .map(|(name, _)| name.as_str())
            .collect();
        resolve(ty, &enums)
    }

    pub fn get(&self, name: &str) -> Option<&Class> {
        self.0.get(name)
    }
}

fn resolve(ty: JavaType, enums: &[&str]) -> JavaType {
    let inner = |item: Option<Box<JavaType>>| item.map(|t| Box::new(resolve(*t, enums)));
    match ty {
        JavaType::Pojo(name) if enums.contains(&name.as_str()) => JavaType::Enum(name),
        JavaType::Array(item) => JavaType::Array(Box::new(resolve(*item, enums))),
        JavaType::List { erased, item } => JavaType::List {
            erased,
            item: inner(item),
        },
        JavaType::Map { erased, key, value } => JavaType::Map {
            erased,
            key: inner(key),
            value: inner(value),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mapping::dubbo::coerce::{Coerce, PojoForm, from_json};
    use dubbo_codec::hessian2::{self, Value};

    fn classes() -> Classes {
        let declared: BTreeMap<String, api_model::JavaClass> = serde_json::from_value(json!({
            "com.acme.User": {"fields": {
                "id": "long", "age": "int", "rank": "short", "createdAt": "java.util.Date",
                "balance": "java.math.BigDecimal", "role": "com.acme.Role",
                "address": "com.acme.Address", "friends": "java.util.List<com.acme.User>",
                "born": "java.time.LocalDate", "labels": "java.util.Map<java.lang.String, com.acme.Role>"
            }},
            "com.acme.Address": {"fields": {"city": "java.lang.String"}},
            "com.acme.Role": {"enum": ["ADMIN", "USER"]}
        }))
        .expect("classes");
        Classes::compile(&declared).expect("compiles")
    }

    fn user(json: serde_json::Value) -> Result<Value, String> {
        let classes = classes();
        let cx = Coerce {
            form: PojoForm::Object,
            classes: &classes,
        };
        from_json(&JavaType::Pojo("com.acme.User".into()), &json, None, cx)
    }

    fn field<'v>(value: &'v Value, name: &str) -> &'v Value {
        let Value::Object(object) = value else {
            panic!("not an object: {value:?}")
        };
        &object
            .fields
            .iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .1
    }

    #[test]
    fn declared_fields_go_on_the_wire_as_their_java_types() {
        let value = user(json!({
            "id": "9007199254740993", "age": 41, "rank": "7", "createdAt": "2024-01-02T03:04:05.678Z",
            "balance": "10.25", "role": "ADMIN", "address": {"city": "Paris"},
            "friends": [{"id": 2, "role": "USER"}], "born": "1990-05-17", "labels": {"x": "ADMIN"}
        }))
        .expect("fits");
        assert_eq!(field(&value, "id"), &Value::Long(9_007_199_254_740_993));
        assert_eq!(field(&value, "age"), &Value::Int(41));
        assert_eq!(field(&value, "rank"), &Value::Int(7));
        assert_eq!(field(&value, "createdAt"), &Value::Date(1_704_164_645_678));
        assert_eq!(field(&value, "balance"), &hessian2::big_decimal("10.25"));
        assert_eq!(
            field(&value, "role"),
            &hessian2::java_enum("com.acme.Role", "ADMIN")
        );
        assert_eq!(field(&value, "born"), &hessian2::local_date(1990, 5, 17));
        let Value::Object(address) = field(&value, "address") else {
            panic!("nested POJO")
        };
        assert_eq!(address.class, "com.acme.Address");
        let Value::List(friends) = field(&value, "friends") else {
            panic!("list")
        };
        assert_eq!(field(&friends.items[0], "id"), &Value::Long(2));
        let Value::Map(labels) = field(&value, "labels") else {
            panic!("map")
        };
        assert_eq!(
            labels.entries[0].1,
            hessian2::java_enum("com.acme.Role", "ADMIN")
        );
    }

    #[test]
    fn a_value_that_does_not_fit_its_field_is_named() {
        let cases = [
            (
                json!({"age": 3_000_000_000u64}),
                "`age`: 3000000000 is out of range",
            ),
            (json!({"rank": 40000}), "`rank`: 40000 is out of range"),
            (json!({"id": 1.5}), "`id`: 1.5 is not a long"),
            (
                json!({"createdAt": "yesterday"}),
                "`createdAt`: `yesterday` is not a date",
            ),
            (
                json!({"balance": "ten"}),
                "`balance`: `ten` is not a decimal",
            ),
            (
                json!({"balance": 12345678901234567890.5}),
                "send the decimal as a string",
            ),
            (
                json!({"role": "ROOT"}),
                "`role`: `ROOT` is not a constant of com.acme.Role (ADMIN, USER)",
            ),
            (
                json!({"nmae": "x"}),
                "`nmae` is not a field of com.acme.User",
            ),
            (
                json!({"address": {"town": "x"}}),
                "`address`: `town` is not a field of com.acme.Address",
            ),
            (
                json!({"friends": [{"age": "old"}]}),
                "`friends`: [0]: `age`: `old` is not a int",
            ),
            (json!({"address": "Paris"}), "`address`: expected an object"),
            (
                json!({"class": "com.acme.Other"}),
                "neither com.acme.User nor another class",
            ),
        ];
        for (json, expected) in cases {
            let err = user(json.clone()).expect_err(&json.to_string());
            assert!(err.contains(expected), "{json}: {err}");
        }
    }

    #[test]
    fn declarations_that_make_no_sense_are_refused() {
        let compile = |declared: serde_json::Value| {
            let declared: BTreeMap<String, api_model::JavaClass> =
                serde_json::from_value(declared).expect("shape");
            Classes::compile(&declared).map(|_| ()).map_err(|e| e.0)
        };
        assert!(compile(json!({"java.lang.String": {"fields": {"x": "int"}}})).is_err());
        assert!(compile(json!({"com.acme.A": {"fields": {"x": "List<"}}})).is_err());
        assert!(compile(json!({"com.acme.A": {"fields": {"x": "int"}, "enum": ["B"]}})).is_err());
        assert!(compile(json!({"com.acme.A": {"fields": {"x": "int"}}})).is_ok());
    }
}
